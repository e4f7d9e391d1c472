/**
 * The registry of fuzz targets: `npm run fuzz -- <name>` and test/fuzz/fuzz.test.ts use it.
 *
 * To add a target: write test/fuzz/targets/<name>.ts exporting a FuzzTarget (see target.ts),
 * or a record of them next to the codec's tests, import it below and add it. Names are
 * lower-case words joined by '-'; 'all' is reserved.
 */
import { chatFuzzTargets } from '../chat/fuzz-targets';
import { circuitFuzzTargets } from '../circuit/fuzz-targets';
import { dhtFuzzTargets } from '../dht/fuzz-targets';
import { directoryFuzzTargets } from '../directory/fuzz-targets';
import { mediaFuzzTargets } from '../media/fuzz-targets';
import { rendezvousFuzzTargets } from '../rendezvous/fuzz-targets';
import { streamFuzzTargets } from '../stream/fuzz-targets';
import { oracleFuzzTargets } from '../oracle/fuzz-targets';
import type { FuzzTarget } from './target';
import { cellsTarget } from './targets/cells';
import { linkHandshakeTarget } from './targets/link';

export type { FuzzTarget } from './target';

export const fuzzTargets: Record<string, FuzzTarget> = {
  cells: cellsTarget,
  'link-handshake': linkHandshakeTarget,
  ...circuitFuzzTargets,
  ...directoryFuzzTargets,
  ...dhtFuzzTargets,
  ...rendezvousFuzzTargets,
  ...chatFuzzTargets,
  ...mediaFuzzTargets,
  ...streamFuzzTargets,
  ...oracleFuzzTargets,
};
