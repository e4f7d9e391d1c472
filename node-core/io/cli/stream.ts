/**
 * `sirius stream`: live streams from the terminal (DESIGN §3 "Live streams"; seed 004 §8). An IVF
 * file (VP8 or VP9, node-core/media/ivf.ts) is broadcast as live video, paced by its timestamps;
 * a viewer records what it receives into an IVF file.
 *
 *   sirius stream publish --data alice --network .devnet/network.json --file talk.ivf --loop \
 *       --invite-out invite.txt                       # prints the invite, streams until Ctrl-C
 *   sirius stream view --data bob --network .devnet/network.json --invite-file invite.txt \
 *       --out copy.ivf --duration 30
 *   sirius stream list --data bob --network .devnet/network.json
 *
 * Data folder, passphrase and network file follow `sirius chat`: --data is the user's folder
 * (the broadcaster's identity key lives in <data>/identity.key, created on first use, sealed with
 * the passphrase from SIRIUS_PASSPHRASE, --passphrase-file or the terminal); --network may be left
 * out when `sirius chat init --network` remembered one for that folder. Viewing and listing are
 * anonymous: they use no identity and ask for no passphrase.
 *
 * The invite is the text `sirius-stream:<base58 of the invite bytes>` (node-core/stream/invite.ts),
 * as a chat message carries it. It holds the stream key: hand it out only privately.
 *
 * Output: one JSON object per line on stdout; diagnostics and errors on stderr, an error as
 * `sirius stream <command>: <message>`.
 *   publish  {"event":"connecting","attempt","error"}   a failed attempt to go online (retried
 *                                                        until --connect-timeout)
 *            {"event":"live","streamId","public","invite","codec","width","height","frames","fileDurationMs"}
 *            {"event":"viewers","viewers","nodes"}     whenever the landing node reports a change
 *            {"event":"stats","viewers","nodes","framesSent","framesSkipped","bytesSent",
 *             "bitrateBps","relayBytesOut","relayFramesDropped","pass"}   every --stats-every s
 *            {"event":"ended","reason","framesSent","framesSkipped","passes"}
 *              reason: "end-of-file" | "duration" | "signal" | "stream-ended" (then also "detail")
 *   view     {"event":"connecting",…} as above, {"event":"joined","streamId"},
 *            {"event":"stats","framesWritten","framesReceived","framesPlayed","framesDropped",
 *             "badSignatures","bytesReceived","bitrateBps","fps","latencyMs"}   every --stats-every s
 *            {"event":"ended","reason","detail"?,"framesWritten","out"}
 *              reason: "frames" | "duration" | "signal" | "stream-ended" | "cut-off" | "error"
 *              (a frame that cannot go into the file, e.g. H.264 video)
 *   list     {"event":"stream","streamId","title","invite"} per public stream, then {"event":"listed","count"}
 *
 * Exit codes: 0 on a normal end; 1 on bad input (a corrupt IVF file, a malformed invite, a bad
 * option), when going online fails, when a broadcast is ended by the network, and when a viewer
 * is cut off or wrote no video frame.
 */
import { existsSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync, writeSync, closeSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { base58 } from '@scure/base';
import { networkFileOf, readPassphrase } from './common';
import { Command, InvalidArgumentError } from 'commander';
import { IvfWriter, ivfCodecString, ivfFourccForCodec, ivfFrameIsKey, ivfTimestampToUs, readIvf, isIvfError, type IvfFile } from '../../media/ivf';
import { decodeInvite } from '../../stream/invite';
import { MAX_VIDEO_DIMENSION, type MediaFrame, type VideoFrameData } from '../../stream/media-frame';
import { isStreamError } from '../../stream/errors';
import { toHex } from '../../util/bytes';
import { clientIdentity, ClientSession, type ClientIdentity } from '../client/session';
import type { BroadcastOptions, StreamBroadcaster, StreamViewer } from '../client/stream-api';
import { joinStream, listPublicStreams, startBroadcast } from '../client/stream-client';
import { nodeSuite } from '../crypto-node';
import { loadOrCreateIdentityKey } from '../keystore';
import { createLogger, type Logger } from '../log';

/** What comes before the base58 of the invite bytes in an invite's text form. */
export const STREAM_INVITE_PREFIX = 'sirius-stream:';

/** Limits of the public stream metadata, in UTF-8 bytes (node-core/stream/messages.ts create-stream). */
const MAX_TITLE_BYTES = 128;
const MAX_DESCRIPTION_BYTES = 1024;

/** The text form of invite bytes: `sirius-stream:<base58>`. */
export function formatStreamInvite(invite: Uint8Array): string {
  if (!(invite instanceof Uint8Array)) throw new TypeError('invite must be a Uint8Array');
  if (invite.length === 0) throw new RangeError('invite must not be empty');
  return STREAM_INVITE_PREFIX + base58.encode(invite);
}

/**
 * The invite bytes of a `sirius-stream:<base58>` text (surrounding white space ignored), checked
 * with decodeInvite. Throws an Error whose message begins "not a stream invite:" for anything else.
 */
export function parseStreamInvite(text: string): Uint8Array {
  if (typeof text !== 'string') throw new TypeError('text must be a string');
  const t = text.trim();
  if (!t.startsWith(STREAM_INVITE_PREFIX)) throw new Error(`not a stream invite: it must begin with "${STREAM_INVITE_PREFIX}"`);
  const body = t.slice(STREAM_INVITE_PREFIX.length);
  let bytes: Uint8Array;
  try {
    bytes = base58.decode(body);
  } catch {
    throw new Error(`not a stream invite: the text after "${STREAM_INVITE_PREFIX}" is not base58`);
  }
  try {
    decodeInvite(bytes);
  } catch (e) {
    if (isStreamError(e)) throw new Error(`not a stream invite: ${e.message}`);
    throw e;
  }
  return bytes;
}

// ---------------------------------------------------------------------------------------------
// Options shared with `sirius chat`: data folder, network file, passphrase.

interface CommonOptions {
  data: string;
  network?: string;
  passphraseFile?: string;
  verbose?: boolean;
  connectTimeout: number;
  statsEvery: number;
}

function common(cmd: Command, opts: { passphrase: boolean }): Command {
  cmd
    .requiredOption('-d, --data <dir>', 'this user’s data folder (as for sirius chat)')
    .option('-n, --network <file>', 'the network file (default: the one `sirius chat init` remembered)');
  if (opts.passphrase) cmd.option('--passphrase-file <file>', 'read the passphrase from a file instead of SIRIUS_PASSPHRASE');
  return cmd
    .option('--connect-timeout <s>', 'keep trying to go online for this many seconds', seconds('--connect-timeout'), 60)
    .option('--stats-every <s>', 'print a stats line every this many seconds (0: never)', seconds('--stats-every', true), 1)
    .option('-v, --verbose', 'log what the client does (stderr)');
}



async function loadIdentity(o: CommonOptions): Promise<ClientIdentity> {
  mkdirSync(o.data, { recursive: true, mode: 0o700 });
  const passphrase = await readPassphrase(o);
  const seed = await loadOrCreateIdentityKey(join(o.data, 'identity.key'), passphrase, nodeSuite);
  return clientIdentity(nodeSuite, seed);
}

function logger(o: CommonOptions): Logger {
  return createLogger({ level: o.verbose ? 'debug' : 'warn', name: 'stream', destination: 2 });
}

// ---------------------------------------------------------------------------------------------
// Option parsers: each refuses bad values before anything goes online.

function integer(flag: string, min: number, max: number): (v: string) => number {
  return (v) => {
    const n = Number(v);
    if (!/^\d+$/.test(v.trim()) || !Number.isSafeInteger(n) || n < min || n > max) throw new InvalidArgumentError(`${flag} must be a whole number in ${min}..${max}`);
    return n;
  };
}

function seconds(flag: string, zeroOk = false): (v: string) => number {
  return (v) => {
    const n = Number(v);
    // At most 2,000,000 s (23 days): a timer cannot wait longer than 2^31-1 ms.
    if (v.trim() === '' || !Number.isFinite(n) || n < 0 || (n === 0 && !zeroOk) || n > 2_000_000) {
      throw new InvalidArgumentError(`${flag} must be a number of seconds${zeroOk ? ' (0 or more)' : ' above 0'}, at most 2000000`);
    }
    return n;
  };
}

function print(line: Record<string, unknown>): void {
  process.stdout.write(JSON.stringify(line) + '\n');
}

/** Runs an action; prints its error as `sirius stream <name>: …` and exits with its code. */
function run<A extends unknown[]>(name: string, body: (...args: A) => Promise<number>): (...args: A) => Promise<void> {
  return async (...args: A) => {
    let code = 1;
    try {
      code = await body(...args);
    } catch (e) {
      process.stderr.write(`sirius stream ${name}: ${e instanceof Error ? e.message : String(e)}\n`);
    }
    process.exit(code);
  };
}

/** Starts a session (with an identity: registered, with a certificate) and runs `then`, retrying both until the deadline. */
async function online<T>(
  o: CommonOptions,
  network: string,
  identity: ClientIdentity | null,
  log: Logger,
  then: (s: ClientSession) => Promise<T>,
): Promise<{ session: ClientSession; value: T }> {
  const deadline = Date.now() + o.connectTimeout * 1000;
  for (let attempt = 1; ; attempt++) {
    const session = new ClientSession({ suite: nodeSuite, network, log, ...(identity ? { identity } : {}) });
    try {
      if (identity) await session.start(identity, { register: true });
      else await session.start();
      return { session, value: await then(session) };
    } catch (e) {
      session.close();
      const error = e instanceof Error ? e.message : String(e);
      if (Date.now() + 2000 >= deadline) throw new Error(`could not go online within ${o.connectTimeout} s: ${error}`);
      print({ event: 'connecting', attempt, error });
      await sleep(2000);
    }
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((res) => setTimeout(res, ms));
}

/** A promise that settles on SIGINT/SIGTERM, with a way to stop listening. */
function onSignal(): { promise: Promise<'signal'>; dispose(): void } {
  let handler: () => void = () => undefined;
  const promise = new Promise<'signal'>((res) => {
    handler = () => res('signal');
  });
  process.once('SIGINT', handler);
  process.once('SIGTERM', handler);
  return {
    promise,
    dispose: () => {
      process.off('SIGINT', handler);
      process.off('SIGTERM', handler);
    },
  };
}

/** Awaits `p` for at most `ms`; a timeout or failure is ignored (used for clean-up). */
async function bounded(p: Promise<unknown>, ms: number): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([p.catch(() => undefined), new Promise<void>((res) => (timer = setTimeout(res, ms)))]);
  clearTimeout(timer);
}

// ---------------------------------------------------------------------------------------------
// publish

interface PublishOptions extends CommonOptions {
  file: string;
  bitrate?: number;
  maxViewers: number;
  loop?: boolean;
  duration?: number;
  public?: boolean;
  title?: string;
  description?: string;
  inviteOut?: string;
}

/** One frame of the file, ready to send but for its capture time. */
interface PacedFrame {
  /** µs from the first frame of the file. */
  readonly offsetUs: number;
  readonly keyframe: boolean;
  readonly data: Uint8Array;
}

interface Programme {
  readonly codec: string;
  readonly width: number;
  readonly height: number;
  readonly frames: PacedFrame[];
  /** One pass of the file, µs: the last frame's offset plus one frame interval. */
  readonly passUs: number;
  /** Average bits per second of the file. */
  readonly fileBitrate: number;
}

/** Reads and checks the IVF file; everything wrong with it is reported here, before going online. */
function loadProgramme(path: string): Programme {
  let bytes: Uint8Array;
  try {
    bytes = readFileSync(path);
  } catch (e) {
    throw new Error(`cannot read ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  let file: IvfFile;
  try {
    file = readIvf(bytes);
  } catch (e) {
    if (isIvfError(e)) throw new Error(`${path} is not a usable IVF file: ${e.message} (${e.code})`);
    throw e;
  }
  const { header } = file;
  const codec = ivfCodecString(header.fourcc);
  if (!codec || (header.fourcc !== 'VP80' && header.fourcc !== 'VP90')) {
    throw new Error(`${path}: codec "${header.fourcc}" is not supported (VP80 or VP90)`);
  }
  if (header.width > MAX_VIDEO_DIMENSION || header.height > MAX_VIDEO_DIMENSION) {
    throw new Error(`${path}: ${header.width}x${header.height} is larger than a stream carries (${MAX_VIDEO_DIMENSION} each)`);
  }
  if (file.frames.length === 0) throw new Error(`${path} holds no frames`);
  const first = ivfTimestampToUs(file.frames[0]!.timestamp, header);
  const frames = file.frames.map((f) => ({ offsetUs: ivfTimestampToUs(f.timestamp, header) - first, keyframe: ivfFrameIsKey(header.fourcc, f.data) === true, data: f.data }));
  if (!frames[0]!.keyframe) throw new Error(`${path}: the first frame is not a key frame, so no viewer could start decoding`);
  const last = frames.at(-1)!.offsetUs;
  const interval = frames.length > 1 ? last / (frames.length - 1) : 33_333;
  const passUs = Math.max(1, Math.round(last + interval));
  let bytesTotal = 0;
  for (const f of frames) bytesTotal += f.data.length;
  return { codec, width: header.width, height: header.height, frames, passUs, fileBitrate: Math.ceil((bytesTotal * 8 * 1e6) / passUs) };
}

async function publish(o: PublishOptions): Promise<number> {
  if (o.public && !o.title) throw new InvalidArgumentError('--public needs --title');
  if (!o.public && (o.title !== undefined || o.description !== undefined)) throw new InvalidArgumentError('--title and --description are for --public streams');
  const utf8Length = (t: string) => new TextEncoder().encode(t).length;
  if (o.title !== undefined && (o.title.trim() === '' || utf8Length(o.title) > MAX_TITLE_BYTES)) throw new InvalidArgumentError(`--title must be 1..${MAX_TITLE_BYTES} bytes of UTF-8, not blank`);
  if (o.description !== undefined && utf8Length(o.description) > MAX_DESCRIPTION_BYTES) throw new InvalidArgumentError(`--description must be at most ${MAX_DESCRIPTION_BYTES} bytes of UTF-8`);
  if (o.inviteOut && !existsSync(dirname(resolve(o.inviteOut)))) throw new InvalidArgumentError(`--invite-out: folder ${dirname(o.inviteOut)} does not exist`);
  const network = networkFileOf(o);
  const programme = loadProgramme(o.file);
  const identity = await loadIdentity(o);
  const log = logger(o);
  // The file's own rate plus a quarter for headroom, unless the user says otherwise.
  const bitrate = o.bitrate ?? Math.max(100_000, Math.ceil(programme.fileBitrate * 1.25));
  const opts: BroadcastOptions = {
    bitrate,
    maxViewers: o.maxViewers,
    public: o.public ? { title: o.title!, description: o.description ?? '' } : null,
  };
  const { session, value: broadcaster } = await online(o, network, identity, log, (s) => startBroadcast(s, identity, opts));
  const signal = onSignal();
  try {
    return await broadcast(o, programme, broadcaster, signal.promise);
  } finally {
    signal.dispose();
    await bounded(broadcaster.stop(), 5000);
    session.close();
  }
}

async function broadcast(o: PublishOptions, programme: Programme, b: StreamBroadcaster, signal: Promise<'signal'>): Promise<number> {
  const invite = formatStreamInvite(b.invite);
  if (o.inviteOut) {
    // Written whole, then renamed into place: a reader never sees half an invite. It holds the
    // stream key, so only its owner may read it.
    const tmp = `${o.inviteOut}.${process.pid}.tmp`;
    writeFileSync(tmp, invite + '\n', { mode: 0o600 });
    renameSync(tmp, o.inviteOut);
  }
  print({
    event: 'live',
    streamId: toHex(b.streamId),
    public: b.isPublic,
    invite,
    codec: programme.codec,
    width: programme.width,
    height: programme.height,
    frames: programme.frames.length,
    fileDurationMs: Math.round(programme.passUs / 1000),
  });

  let stop: { reason: string; detail?: string } | null = null;
  let wake: () => void = () => undefined;
  const end = (reason: string, detail?: string) => {
    if (stop) return;
    stop = detail === undefined ? { reason } : { reason, detail };
    wake();
  };
  void signal.then(() => end('signal'));
  const unEnded = b.onEnded((why) => end('stream-ended', why));
  let lastViewers = -1;
  const unStats = b.onStats((s) => {
    if (s.viewers !== lastViewers) {
      lastViewers = s.viewers;
      print({ event: 'viewers', viewers: s.viewers, nodes: s.nodes });
    }
  });
  let pass = 0;
  const statsTimer =
    o.statsEvery > 0
      ? setInterval(() => {
          const s = b.stats();
          print({ event: 'stats', viewers: s.viewers, nodes: s.nodes, framesSent: s.framesSent, framesSkipped: s.framesSkipped, bytesSent: s.bytesSent, bitrateBps: s.bitrateBps, relayBytesOut: s.relayBytesOut, relayFramesDropped: s.relayFramesDropped, pass });
        }, o.statsEvery * 1000)
      : undefined;
  const durationTimer = o.duration !== undefined ? setTimeout(() => end('duration'), o.duration * 1000) : undefined;

  // Pacing: frame i of pass p is due at start + p·passUs + offsetUs(i), on the monotonic clock;
  // its media timestamp is that same offset, so timestamps keep rising from pass to pass.
  const start = performance.now();
  try {
    outer: for (; ; pass++) {
      for (const f of programme.frames) {
        const dueUs = pass * programme.passUs + f.offsetUs;
        const waitMs = start + dueUs / 1000 - performance.now();
        if (waitMs > 0 && !stop) {
          await new Promise<void>((res) => {
            const t = setTimeout(res, waitMs);
            wake = () => {
              clearTimeout(t);
              res();
            };
          });
        }
        if (stop) break outer;
        const frame: VideoFrameData = {
          track: 'video',
          keyframe: f.keyframe,
          timestampUs: dueUs,
          capturedAtMs: Date.now(),
          codec: programme.codec,
          width: programme.width,
          height: programme.height,
          description: new Uint8Array(0),
          data: f.data,
        };
        try {
          b.sendFrame(frame satisfies MediaFrame);
        } catch (e) {
          end('stream-ended', e instanceof Error ? e.message : String(e));
          break outer;
        }
      }
      if (!o.loop) {
        end('end-of-file');
        break;
      }
    }
  } finally {
    clearInterval(statsTimer);
    clearTimeout(durationTimer);
    unEnded();
    unStats();
  }
  const s = b.stats();
  const final = stop as { reason: string; detail?: string } | null;
  print({ event: 'ended', reason: final?.reason ?? 'end-of-file', ...(final?.detail ? { detail: final.detail } : {}), framesSent: s.framesSent, framesSkipped: s.framesSkipped, passes: pass + 1 });
  if (final?.reason === 'stream-ended') {
    process.stderr.write(`sirius stream publish: the stream ended: ${final.detail ?? 'no reason given'}\n`);
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// view

interface ViewOptions extends CommonOptions {
  invite?: string;
  inviteFile?: string;
  out: string;
  duration?: number;
  frames?: number;
}

/**
 * Writes received video frames into an IVF file: from the first key frame on (earlier frames
 * could not be decoded), timestamps in µs from that frame, the frame count filled in on close.
 * A frame whose timestamp is not after the last one written is left out: a viewer that joins
 * again after losing its relay is sent the current group from its key frame once more.
 */
class IvfRecorder {
  private readonly fd: number;
  private writer: IvfWriter | null = null;
  private firstUs = 0;
  private lastUs = -1;
  private closed = false;
  /** Video frames not written: before the first key frame, or repeated. */
  skipped = 0;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w', 0o644);
  }

  get written(): number {
    return this.writer?.frameCount ?? 0;
  }

  /** Writes `f` if it belongs in the file; throws for a video codec IVF cannot hold. */
  add(f: MediaFrame): boolean {
    if (f.track !== 'video') return false;
    if (!this.writer) {
      if (!f.keyframe) {
        this.skipped++;
        return false;
      }
      const fourcc = ivfFourccForCodec(f.codec);
      if (!fourcc) throw new Error(`the stream's video codec "${f.codec}" cannot be written to an IVF file (VP8, VP9 or AV1 only)`);
      this.writer = new IvfWriter({ fourcc, width: f.width, height: f.height, timebaseNumerator: 1, timebaseDenominator: 1_000_000 });
      this.firstUs = f.timestampUs;
      writeSync(this.fd, this.writer.header());
    }
    if (f.timestampUs <= this.lastUs) {
      this.skipped++;
      return false;
    }
    this.lastUs = f.timestampUs;
    writeSync(this.fd, this.writer.frame(f.data, f.timestampUs - this.firstUs));
    return true;
  }

  /** Fills in the frame count and closes; with no frame written, removes the file. Idempotent. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.writer) writeSync(this.fd, this.writer.header(), 0, 32, 0);
    closeSync(this.fd);
    if (!this.writer) unlinkSync(this.path);
  }
}

function inviteText(o: ViewOptions): string {
  if ((o.invite === undefined) === (o.inviteFile === undefined)) throw new InvalidArgumentError('give exactly one of --invite and --invite-file');
  if (o.invite !== undefined) return o.invite;
  let text: string;
  try {
    text = readFileSync(o.inviteFile!, 'utf8');
  } catch (e) {
    throw new Error(`cannot read ${o.inviteFile}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  return text.split(/\r?\n/).find((l) => l.trim() !== '') ?? '';
}

async function view(o: ViewOptions): Promise<number> {
  const invite = parseStreamInvite(inviteText(o));
  const network = networkFileOf(o);
  if (!existsSync(dirname(resolve(o.out)))) throw new InvalidArgumentError(`--out: folder ${dirname(o.out)} does not exist`);
  const log = logger(o);
  const recorder = new IvfRecorder(o.out);
  try {
    const { session, value: viewer } = await online(o, network, null, log, (s) => joinStream(s, invite));
    const signal = onSignal();
    try {
      return await watch(o, viewer, recorder, signal.promise);
    } finally {
      signal.dispose();
      await bounded(viewer.leave(), 5000);
      session.close();
    }
  } finally {
    recorder.close();
  }
}

async function watch(o: ViewOptions, v: StreamViewer, rec: IvfRecorder, signal: Promise<'signal'>): Promise<number> {
  print({ event: 'joined', streamId: toHex(v.streamId) });
  let done: (r: { reason: string; detail?: string }) => void = () => undefined;
  const finished = new Promise<{ reason: string; detail?: string }>((res) => (done = res));
  void signal.then(() => done({ reason: 'signal' }));
  const unFrame = v.onFrame((f) => {
    try {
      if (rec.add(f) && o.frames !== undefined && rec.written >= o.frames) done({ reason: 'frames' });
    } catch (e) {
      done({ reason: 'error', detail: e instanceof Error ? e.message : String(e) });
    }
  });
  // The viewer reports the broadcaster's end-stream as "… ended the stream"; anything else
  // (the relay lost, rejoining failed) means this viewer was cut off.
  const unEnded = v.onEnded((why) => done({ reason: /\bended\b/i.test(why) ? 'stream-ended' : 'cut-off', detail: why }));
  const statsTimer =
    o.statsEvery > 0
      ? setInterval(() => {
          const s = v.stats();
          print({ event: 'stats', framesWritten: rec.written, framesReceived: s.framesReceived, framesPlayed: s.framesPlayed, framesDropped: s.framesDropped, badSignatures: s.badSignatures, bytesReceived: s.bytesReceived, bitrateBps: s.bitrateBps, fps: s.fps, latencyMs: s.latencyMs });
        }, o.statsEvery * 1000)
      : undefined;
  const durationTimer = o.duration !== undefined ? setTimeout(() => done({ reason: 'duration' }), o.duration * 1000) : undefined;
  const end = await finished;
  clearInterval(statsTimer);
  clearTimeout(durationTimer);
  unFrame();
  unEnded();
  const written = rec.written;
  print({ event: 'ended', reason: end.reason, ...(end.detail ? { detail: end.detail } : {}), framesWritten: written, out: written > 0 ? o.out : null });
  if (end.reason === 'error') throw new Error(end.detail);
  if (end.reason === 'cut-off') {
    process.stderr.write(`sirius stream view: cut off from the stream: ${end.detail ?? 'no reason given'}\n`);
    return 1;
  }
  if (written === 0) {
    process.stderr.write('sirius stream view: no video frame arrived; nothing was written\n');
    return 1;
  }
  return 0;
}

// ---------------------------------------------------------------------------------------------
// list

async function list(o: CommonOptions): Promise<number> {
  const network = networkFileOf(o);
  const log = logger(o);
  const { session, value: streams } = await online(o, network, null, log, (s) => listPublicStreams(s));
  try {
    for (const s of streams) print({ event: 'stream', streamId: toHex(s.streamId), title: s.title, invite: formatStreamInvite(s.invite) });
    print({ event: 'listed', count: streams.length });
  } finally {
    session.close();
  }
  return 0;
}

/** Adds `sirius stream publish|view|list` to `program`; returns the `stream` command. */
export function streamCommand(program: Command): Command {
  if (!(program instanceof Command)) throw new TypeError('program must be a commander Command');
  const stream = program.command('stream').description('live streams: broadcast an IVF file, record a stream, list public streams');

  common(
    stream
      .command('publish')
      .description('broadcast an IVF file (VP8/VP9) as a live stream, paced by its timestamps; prints the invite')
      .requiredOption('-f, --file <file.ivf>', 'the video to send')
      .option('--bitrate <bps>', 'bitrate the stream is created for (default: the file’s, plus a quarter)', integer('--bitrate', 10_000, 50_000_000))
      .option('--max-viewers <n>', 'viewers the stream should serve', integer('--max-viewers', 1, 100_000), 100)
      .option('--loop', 'start the file over at its end, until --duration or a signal')
      .option('--duration <s>', 'stop after this many seconds', seconds('--duration'))
      .option('--public', 'publish as a public stream (listed; anyone may watch)')
      .option('--title <text>', 'title of a public stream')
      .option('--description <text>', 'description of a public stream')
      .option('--invite-out <file>', 'also write the invite to this file (mode 0600)'),
    { passphrase: true },
  ).action(run('publish', (o: PublishOptions) => publish(o)));

  common(
    stream
      .command('view')
      .description('join a stream and write its video frames to an IVF file')
      .option('--invite <text>', 'the invite, sirius-stream:…')
      .option('--invite-file <file>', 'read the invite from a file (first non-empty line)')
      .requiredOption('-o, --out <file.ivf>', 'where the received video goes')
      .option('--duration <s>', 'stop after this many seconds', seconds('--duration'))
      .option('--frames <n>', 'stop after writing this many video frames', integer('--frames', 1, 100_000_000)),
    { passphrase: false },
  ).action(run('view', (o: ViewOptions) => view(o)));

  common(stream.command('list').description('print the public streams'), { passphrase: false }).action(run('list', (o: CommonOptions) => list(o)));
  return stream;
}
