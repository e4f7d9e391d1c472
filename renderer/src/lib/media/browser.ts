/** The browser's media stack for the broadcast slice (state/broadcast.ts BroadcastMedia). */
import type { BroadcastMedia, PipelineStart } from '../../state/broadcast';
import { captureProblem, listDevices, openCapture, stopCapture } from './capture';
import { BroadcastPipeline } from './encoder';

export const browserBroadcastMedia: BroadcastMedia = Object.freeze({
  open: openCapture,
  close: (stream: MediaStream) => stopCapture(stream),
  devices: listDevices,
  problem: captureProblem,
  startPipeline: (start: PipelineStart) => BroadcastPipeline.start(start),
});
