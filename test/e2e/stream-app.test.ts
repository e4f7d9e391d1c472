/**
 * Live streaming end to end in a real browser (DESIGN §5; issue #8): Debian's Chromium with its
 * fake camera and microphone, two web hosts (`npm run web`, profiles A and B) on a devnet whose
 * layout has oracle, landing and distribution nodes. A and B become contacts; A goes live
 * (getUserMedia → WebCodecs → broadcast.frames → the stream client → landing node), shares the
 * invite into the chat; B presses Watch on the invite card, and B's canvas shows decoded frames
 * that keep changing for more than 10 s; A sees 1 viewer; B leaves and A sees 0.
 * Screenshots: test-output/screenshots/stream-broadcast.png and stream-viewer.png.
 */
import { describe, it } from 'vitest';
import { streamLayout } from '../stream/support';
import { becomeContacts, browserOnDevnet, onboard } from './helpers';
import { broadcastAndWatch } from './stream-steps';

/** 3 discovery, 2 authority, 2 oracle and 6 onion nodes; onion1 lands streams, onion2–3 distribute them. */
const layout = streamLayout({ landing: 1, distribution: 2 });

const env = browserOnDevnet(layout, 'psp-e2e-stream-');

describe('live streaming in a browser', () => {
  it('A broadcasts from the fake camera, B watches from the invite in the chat, A sees the viewer come and go', async () => {
    const [urlA, urlB] = await Promise.all([env.startHost('stream-a'), env.startHost('stream-b')]);
    const a = await env.newPage({ width: 1280, height: 900 });
    const b = await env.newPage({ width: 1280, height: 900 });
    const [, bId] = await Promise.all([onboard(a, urlA, 'Ann', 'stream-a', false), onboard(b, urlB, 'Ben', 'stream-b', false)]);
    await becomeContacts(a, b, bId, 'Ben', 'Ready for the stream?');
    await broadcastAndWatch(a, b, { shots: 'stream', bName: 'Ben', firstFrameMs: 120_000, viewerCountMs: 90_000 });
  });
});
