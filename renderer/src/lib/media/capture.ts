/**
 * Camera and microphone: opening them with getUserMedia, listing them (labels are only given once
 * access was granted), and reading raw frames from their tracks — with MediaStreamTrackProcessor
 * where the browser has it, otherwise by drawing a <video> onto a canvas at the capture rate
 * (video) or through a ScriptProcessorNode (audio).
 *
 * In the desktop app camera and microphone are allowed only while a broadcast runs
 * (main/security.ts), so they are opened after `broadcast.start`; the web host's browser decides
 * by itself.
 */

/** MediaStreamTrackProcessor (Chromium), which TypeScript's DOM library does not describe yet. */
interface TrackProcessor<T> {
  readonly readable: ReadableStream<T>;
}
type TrackProcessorConstructor = new <T>(init: { track: MediaStreamTrack; maxBufferSize?: number }) => TrackProcessor<T>;

function trackProcessor(): TrackProcessorConstructor | undefined {
  const ctor = (globalThis as { MediaStreamTrackProcessor?: unknown }).MediaStreamTrackProcessor;
  return typeof ctor === 'function' ? (ctor as TrackProcessorConstructor) : undefined;
}

export interface MediaDevice {
  readonly deviceId: string;
  readonly label: string;
}

export interface DeviceList {
  readonly cameras: readonly MediaDevice[];
  readonly microphones: readonly MediaDevice[];
}

/** The choice of devices: an id, '' for the default one, or null for none. */
export interface DeviceChoice {
  readonly cameraId: string | null;
  readonly microphoneId: string | null;
}

/** getUserMedia constraints for a choice (720p at 30 fps wished for; mono 48 kHz with echo cancellation). */
export function captureConstraints(choice: DeviceChoice): MediaStreamConstraints {
  if (typeof choice !== 'object' || choice === null) throw new TypeError('choice must be an object');
  if (choice.cameraId === null && choice.microphoneId === null) throw new RangeError('choice must name a camera or a microphone');
  const video: MediaTrackConstraints | false =
    choice.cameraId === null
      ? false
      : { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30 }, ...(choice.cameraId !== '' ? { deviceId: { exact: choice.cameraId } } : {}) };
  const audio: MediaTrackConstraints | false =
    choice.microphoneId === null
      ? false
      : {
          channelCount: { ideal: 1 },
          sampleRate: { ideal: 48_000 },
          echoCancellation: true,
          noiseSuppression: true,
          ...(choice.microphoneId !== '' ? { deviceId: { exact: choice.microphoneId } } : {}),
        };
  return { video, audio };
}

/** Words for a getUserMedia failure. */
export function captureProblem(error: unknown): string {
  const name = error instanceof DOMException || error instanceof Error ? error.name : '';
  switch (name) {
    case 'NotAllowedError':
    case 'SecurityError':
      return 'Access to the camera or microphone was not allowed.';
    case 'NotFoundError':
    case 'OverconstrainedError':
      return 'The chosen camera or microphone was not found.';
    case 'NotReadableError':
    case 'AbortError':
      return 'The camera or microphone is in use by another program, or could not be started.';
    default:
      return 'The camera or microphone could not be opened.';
  }
}

export async function openCapture(choice: DeviceChoice): Promise<MediaStream> {
  if (navigator.mediaDevices?.getUserMedia === undefined) throw new Error('This browser cannot capture a camera.');
  return navigator.mediaDevices.getUserMedia(captureConstraints(choice));
}

/** Cameras and microphones (with labels once access was granted). */
export async function listDevices(): Promise<DeviceList> {
  if (navigator.mediaDevices?.enumerateDevices === undefined) return { cameras: [], microphones: [] };
  const all = await navigator.mediaDevices.enumerateDevices();
  const pick = (kind: MediaDeviceKind): MediaDevice[] =>
    all
      .filter((d) => d.kind === kind && d.deviceId !== '')
      .map((d, i) => ({ deviceId: d.deviceId, label: d.label !== '' ? d.label : `${kind === 'videoinput' ? 'Camera' : 'Microphone'} ${i + 1}` }));
  return { cameras: pick('videoinput'), microphones: pick('audioinput') };
}

export function stopCapture(stream: MediaStream | null): void {
  for (const track of stream?.getTracks() ?? []) track.stop();
}

/** A running reader of a track's raw frames; `stop()` ends it (the track itself stays). */
export interface FrameSource {
  stop(): void;
}

/**
 * Hands every VideoFrame of `track` to `onFrame`, which must close it. With
 * MediaStreamTrackProcessor the browser's own frames; otherwise the track plays in a detached
 * <video> that is drawn onto a canvas at the track's frame rate and turned into VideoFrames.
 */
export function readVideoFrames(track: MediaStreamTrack, onFrame: (frame: VideoFrame) => void, onEnd: (error?: unknown) => void): FrameSource {
  if (!(track instanceof MediaStreamTrack) || track.kind !== 'video') throw new TypeError('track must be a video MediaStreamTrack');
  const Processor = trackProcessor();
  if (Processor !== undefined) return readWithProcessor<VideoFrame>(new Processor<VideoFrame>({ track, maxBufferSize: 2 }), onFrame, onEnd);

  const video = document.createElement('video');
  video.muted = true;
  video.playsInline = true;
  video.srcObject = new MediaStream([track]);
  void video.play().catch((e: unknown) => onEnd(e));
  const fps = Math.min(60, Math.max(1, track.getSettings().frameRate ?? 30));
  const canvas = typeof OffscreenCanvas === 'function' ? new OffscreenCanvas(2, 2) : document.createElement('canvas');
  const ctx = canvas.getContext('2d') as OffscreenCanvasRenderingContext2D | CanvasRenderingContext2D | null;
  let stopped = false;
  const timer = window.setInterval(() => {
    if (stopped || ctx === null || video.videoWidth === 0 || video.readyState < 2) return;
    if (canvas.width !== video.videoWidth || canvas.height !== video.videoHeight) {
      canvas.width = video.videoWidth;
      canvas.height = video.videoHeight;
    }
    ctx.drawImage(video, 0, 0);
    onFrame(new VideoFrame(canvas, { timestamp: Math.round(performance.now() * 1000) }));
  }, 1000 / fps);
  const ended = (): void => {
    if (!stopped) onEnd();
  };
  track.addEventListener('ended', ended);
  return {
    stop() {
      stopped = true;
      window.clearInterval(timer);
      track.removeEventListener('ended', ended);
      video.pause();
      video.srcObject = null;
    },
  };
}

/**
 * Hands every AudioData of `track` to `onData`, which must close it. With
 * MediaStreamTrackProcessor the browser's own buffers; otherwise a ScriptProcessorNode copies
 * the samples (f32-planar) out of the audio graph.
 */
export function readAudioData(track: MediaStreamTrack, onData: (data: AudioData) => void, onEnd: (error?: unknown) => void): FrameSource {
  if (!(track instanceof MediaStreamTrack) || track.kind !== 'audio') throw new TypeError('track must be an audio MediaStreamTrack');
  const Processor = trackProcessor();
  if (Processor !== undefined) return readWithProcessor<AudioData>(new Processor<AudioData>({ track, maxBufferSize: 8 }), onData, onEnd);

  const ctx = new AudioContext({ sampleRate: 48_000 });
  const source = ctx.createMediaStreamSource(new MediaStream([track]));
  const channels = Math.min(2, Math.max(1, track.getSettings().channelCount ?? 1));
  const node = ctx.createScriptProcessor(1024, channels, channels);
  const silence = ctx.createGain();
  silence.gain.value = 0;
  let stopped = false;
  node.onaudioprocess = (event) => {
    if (stopped) return;
    const input = event.inputBuffer;
    const planes = new Float32Array(input.length * input.numberOfChannels);
    for (let ch = 0; ch < input.numberOfChannels; ch++) planes.set(input.getChannelData(ch), ch * input.length);
    const durationUs = (input.length / input.sampleRate) * 1e6;
    onData(
      new AudioData({
        format: 'f32-planar',
        sampleRate: input.sampleRate,
        numberOfFrames: input.length,
        numberOfChannels: input.numberOfChannels,
        timestamp: Math.max(0, Math.round(performance.now() * 1000 - durationUs)),
        data: planes,
      }),
    );
  };
  source.connect(node);
  // The node only runs while connected towards the output; the gain keeps it silent.
  node.connect(silence);
  silence.connect(ctx.destination);
  void ctx.resume().catch((e: unknown) => onEnd(e));
  return {
    stop() {
      stopped = true;
      node.onaudioprocess = null;
      source.disconnect();
      node.disconnect();
      void ctx.close().catch(() => undefined);
    },
  };
}

function readWithProcessor<T extends VideoFrame | AudioData>(processor: TrackProcessor<T>, onItem: (item: T) => void, onEnd: (error?: unknown) => void): FrameSource {
  const reader = processor.readable.getReader();
  let stopped = false;
  void (async () => {
    try {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        if (stopped) {
          value.close();
          continue;
        }
        onItem(value);
      }
      if (!stopped) onEnd();
    } catch (e) {
      if (!stopped) onEnd(e);
    }
  })();
  return {
    stop() {
      stopped = true;
      void reader.cancel().catch(() => undefined);
    },
  };
}
