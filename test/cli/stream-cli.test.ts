/**
 * `sirius stream` as a user runs it, as processes over a devnet with oracle, landing and
 * distribution nodes: one terminal publishes the committed test pattern
 * (test/fixtures/stream/test-pattern.ivf) in a loop and writes the invite to a file; a viewer
 * records a number of frames into an IVF file and exits; a second viewer records until the
 * broadcaster stops, and exits 0 when the stream ends. What the viewers wrote are the very frames
 * of the input file, byte for byte, a contiguous run (wrapping round at the loop) from a key frame.
 * A public stream shows up in `sirius stream list`. Bad input — a corrupt IVF file, a malformed
 * invite — gives a clear error and a non-zero exit code before anything goes online.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { base58 } from '@scure/base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { isVp8Keyframe, readIvf, type IvfFile } from '../../node-core/media/ivf';
import { toHex } from '../../node-core/util/bytes';
import { startTestNet, type TestNet } from '../support/devnet';
import { waitFor } from '../support/raw-link';
import { streamLayout } from '../stream/support';

const SIRIUS = join(import.meta.dirname, '../../bin/sirius.js');
const PATTERN = join(import.meta.dirname, '../fixtures/stream/test-pattern.ivf');
const PASS = 'stream cli pass';
const layout = streamLayout({ landing: 1, distribution: 2, onions: 6 });

let net: TestNet;
let root: string;
const running: ChildProcessWithoutNullStreams[] = [];

interface Proc {
  p: ChildProcessWithoutNullStreams;
  lines: () => Record<string, unknown>[];
  stderr: () => string;
  exited: Promise<number | null>;
}

function parseLines(out: string): Record<string, unknown>[] {
  return out
    .split('\n')
    .filter((l) => l.startsWith('{'))
    .map((l) => JSON.parse(l) as Record<string, unknown>);
}

function start(args: string[]): Proc {
  const p = spawn(process.execPath, [SIRIUS, ...args], { env: { ...process.env, SIRIUS_PASSPHRASE: PASS } });
  running.push(p);
  let out = '';
  let err = '';
  p.stdout.on('data', (d: Buffer) => (out += d.toString()));
  p.stderr.on('data', (d: Buffer) => (err += d.toString()));
  const exited = new Promise<number | null>((res) => p.on('exit', (code) => res(code)));
  return { p, lines: () => parseLines(out), stderr: () => err, exited };
}

async function sirius(args: string[]): Promise<{ code: number | null; lines: Record<string, unknown>[]; stderr: string }> {
  const proc = start(args);
  const code = await proc.exited;
  return { code, lines: proc.lines(), stderr: proc.stderr() };
}

/**
 * Where `got` sits in the looping `input`: the index of its first frame, after checking that it
 * starts at a key frame and that every frame is, byte for byte, the next one of the input
 * (wrapping round at the end).
 */
function placeInInput(got: IvfFile, input: IvfFile): number {
  const index = new Map(input.frames.map((f, i) => [toHex(f.data), i]));
  // Each recorded frame as its index in the input (-1: not a frame of the input).
  const seq = got.frames.map((f) => index.get(toHex(f.data)) ?? -1);
  expect(seq.length).toBeGreaterThan(0);
  const first = seq[0]!;
  expect(first, 'the first frame written is a frame of the input').toBeGreaterThanOrEqual(0);
  expect(isVp8Keyframe(got.frames[0]!.data), 'the first frame written is a key frame').toBe(true);
  expect(seq).toEqual(seq.map((_, i) => (first + i) % input.frames.length));
  return first;
}

beforeAll(async () => {
  net = await startTestNet({ layout, periodMs: 3000, configPatch: { limits: { stream: { reportIntervalMs: 300 } } } });
  root = mkdtempSync(join(tmpdir(), 'psp-cli-stream-'));
}, 180_000);

afterAll(async () => {
  for (const p of running) if (p.exitCode === null && p.signalCode === null) p.kill('SIGKILL');
  await net?.stop();
  if (root) rmSync(root, { recursive: true, force: true });
});

describe('sirius stream: bad input', () => {
  it('a corrupt IVF file is refused with a clear error before going online', async () => {
    const bytes = readFileSync(PATTERN);
    const cut = join(root, 'cut.ivf');
    writeFileSync(cut, bytes.subarray(0, 5000)); // ends inside a frame
    const notIvf = join(root, 'not.ivf');
    writeFileSync(notIvf, Buffer.concat([Buffer.from('RIFF'), bytes.subarray(4, 2000)]));
    const empty = join(root, 'empty.ivf');
    writeFileSync(empty, new Uint8Array(0));
    for (const [file, why] of [
      [cut, /not a usable IVF file: .*inside frame.*\(truncated\)/],
      [notIvf, /not a usable IVF file: not an IVF file.*\(bad-signature\)/],
      [empty, /not a usable IVF file: .*header.*\(truncated\)/],
      [join(root, 'missing.ivf'), /cannot read .*missing\.ivf: ENOENT/],
    ] as const) {
      const r = await sirius(['stream', 'publish', '--data', join(root, 'bad-publisher'), '--network', net.devnet.networkFile, '--file', file]);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/^sirius stream publish: /);
      expect(r.stderr).toMatch(why);
      expect(r.lines.filter((l) => l.event === 'live' || l.event === 'connecting')).toEqual([]);
    }
    // Nothing was created for the user: no identity key was made for a refused file.
    expect(existsSync(join(root, 'bad-publisher', 'identity.key'))).toBe(false);
  });

  it('a malformed invite is refused with a clear error, and no output file is left', async () => {
    const out = join(root, 'never.ivf');
    const validLength = base58.encode(new Uint8Array(126).fill(7));
    for (const [invite, why] of [
      ['https://example.invalid/watch', /not a stream invite: it must begin with "sirius-stream:"/],
      ['sirius-stream:0OIl', /not a stream invite: .*not base58/],
      ['sirius-stream:', /not a stream invite/],
      [`sirius-stream:${validLength}`, /not a stream invite: stream invite/],
    ] as const) {
      const r = await sirius(['stream', 'view', '--data', join(root, 'bad-viewer'), '--network', net.devnet.networkFile, '--invite', invite, '--out', out]);
      expect(r.code, r.stderr).not.toBe(0);
      expect(r.stderr).toMatch(/^sirius stream view: /);
      expect(r.stderr).toMatch(why);
      expect(r.lines.filter((l) => l.event === 'joined' || l.event === 'connecting')).toEqual([]);
    }
    const file = join(root, 'invite.txt');
    writeFileSync(file, '\nsirius-stream:notbase58!\n');
    const r = await sirius(['stream', 'view', '--data', join(root, 'bad-viewer'), '--network', net.devnet.networkFile, '--invite-file', file, '--out', out]);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/not a stream invite/);
    expect(existsSync(out)).toBe(false);
  });

  it('bad options are refused by name', async () => {
    const base = ['stream', 'publish', '--data', join(root, 'bad-publisher'), '--network', net.devnet.networkFile, '--file', PATTERN];
    for (const [extra, why] of [
      [['--bitrate', 'fast'], /--bitrate/],
      [['--max-viewers', '0'], /--max-viewers/],
      [['--duration', '-3'], /--duration/],
      [['--public'], /--public needs --title/],
      [['--title', 'no public'], /--title and --description are for --public/],
    ] as const) {
      const r = await sirius([...base, ...extra]);
      expect(r.code, `${extra.join(' ')}: ${r.stderr}`).not.toBe(0);
      expect(r.stderr).toMatch(why);
    }
    const both = await sirius(['stream', 'view', '--data', join(root, 'v'), '--network', net.devnet.networkFile, '--invite', 'x', '--invite-file', 'y', '--out', join(root, 'o.ivf')]);
    expect(both.code).not.toBe(0);
    expect(both.stderr).toMatch(/exactly one of --invite and --invite-file/);
  });
});

describe('sirius stream over a devnet', () => {
  it('publish → view: the viewers record the very frames of the file; the stream ending ends the viewer', async () => {
    const input = readIvf(readFileSync(PATTERN));
    const inviteFile = join(root, 'live-invite.txt');
    const publisher = start([
      'stream', 'publish', '--data', join(root, 'alice'), '--network', net.devnet.networkFile,
      '--file', PATTERN, '--loop', '--duration', '600', '--max-viewers', '10', '--invite-out', inviteFile,
      '--connect-timeout', '120',
    ]);
    const live = await waitFor(() => publisher.lines().find((l) => l.event === 'live'), 'the broadcast to go live', 150_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${publisher.stderr()}\n${JSON.stringify(publisher.lines())}`);
    });
    expect(live).toMatchObject({ public: false, codec: 'vp8', width: 640, height: 360, frames: 180, fileDurationMs: 6000 });
    expect(String(live.invite)).toMatch(/^sirius-stream:[1-9A-HJ-NP-Za-km-z]+$/);
    // The invite file holds the same text, readable by its owner only.
    expect(readFileSync(inviteFile, 'utf8')).toBe(`${String(live.invite)}\n`);
    expect(statSync(inviteFile).mode & 0o077).toBe(0);

    // A viewer that stops after 90 frames.
    const out1 = join(root, 'viewer1.ivf');
    const v1 = await sirius(['stream', 'view', '--data', join(root, 'bob'), '--network', net.devnet.networkFile, '--invite-file', inviteFile, '--out', out1, '--frames', '90', '--connect-timeout', '120']);
    expect(v1.code, v1.stderr).toBe(0);
    expect(v1.lines.find((l) => l.event === 'joined')).toMatchObject({ streamId: live.streamId });
    expect(v1.lines.at(-1)).toMatchObject({ event: 'ended', reason: 'frames', framesWritten: 90, out: out1 });
    const rec1 = readIvf(readFileSync(out1));
    expect(rec1.header).toMatchObject({ fourcc: 'VP80', width: 640, height: 360, frameCount: 90 });
    expect(rec1.frames).toHaveLength(90);
    const first1 = placeInInput(rec1, input);
    expect(first1 % 60).toBe(0); // the key frames of the input are 0, 60 and 120
    // Timestamps (µs from the first frame written) follow the input's pacing.
    expect(rec1.frames[0]!.timestamp).toBe(0);
    expect(rec1.frames[30]!.timestamp).toBe(1_000_000);

    // The landing node's count of that viewer reached the broadcaster.
    await waitFor(() => publisher.lines().some((l) => (l.event === 'viewers' || l.event === 'stats') && Number(l.viewers) >= 1), 'the broadcaster to see a viewer', 30_000);
    expect(publisher.lines().some((l) => l.event === 'stats' && Number(l.framesSent) > 0 && Number(l.bitrateBps) > 0)).toBe(true);

    // A second viewer records until the broadcaster stops.
    const out2 = join(root, 'viewer2.ivf');
    const v2 = start(['stream', 'view', '--data', join(root, 'carol'), '--network', net.devnet.networkFile, '--invite', String(live.invite), '--out', out2, '--connect-timeout', '120']);
    await waitFor(() => v2.lines().some((l) => l.event === 'stats' && Number(l.framesWritten) >= 45), 'the second viewer to record', 120_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${v2.stderr()}\n${JSON.stringify(v2.lines())}`);
    });
    publisher.p.kill('SIGTERM');
    expect(await publisher.exited, publisher.stderr()).toBe(0);
    expect(publisher.lines().at(-1)).toMatchObject({ event: 'ended', reason: 'signal' });
    expect(await v2.exited, v2.stderr()).toBe(0);
    const end2 = v2.lines().at(-1)!;
    expect(end2).toMatchObject({ event: 'ended', reason: 'stream-ended', out: out2 });
    const rec2 = readIvf(readFileSync(out2));
    expect(rec2.frames.length).toBe(end2.framesWritten);
    expect(rec2.header.frameCount).toBe(rec2.frames.length);
    expect(rec2.frames.length).toBeGreaterThanOrEqual(45);
    placeInInput(rec2, input);
  }, 400_000);

  it('a public stream is listed by sirius stream list, and its invite plays', async () => {
    const publisher = start([
      'stream', 'publish', '--data', join(root, 'dave'), '--network', net.devnet.networkFile,
      '--file', PATTERN, '--loop', '--duration', '600', '--public', '--title', 'Test pattern', '--description', 'colour bars',
      '--connect-timeout', '120',
    ]);
    try {
      const live = await waitFor(() => publisher.lines().find((l) => l.event === 'live'), 'the public broadcast to go live', 150_000).catch((e: Error) => {
        throw new Error(`${e.message}\n${publisher.stderr()}\n${JSON.stringify(publisher.lines())}`);
      });
      expect(live.public).toBe(true);
      let listed: Record<string, unknown> | undefined;
      for (let i = 0; i < 20 && !listed; i++) {
        const r = await sirius(['stream', 'list', '--data', join(root, 'erin'), '--network', net.devnet.networkFile]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.lines.at(-1)).toMatchObject({ event: 'listed' });
        listed = r.lines.find((l) => l.event === 'stream' && l.streamId === live.streamId);
        if (!listed) await new Promise((res) => setTimeout(res, 1000));
      }
      expect(listed, 'the stream in the public list').toMatchObject({ title: 'Test pattern' });
      const out = join(root, 'public.ivf');
      const v = await sirius(['stream', 'view', '--data', join(root, 'erin'), '--network', net.devnet.networkFile, '--invite', String(listed!.invite), '--out', out, '--frames', '30']);
      expect(v.code, v.stderr).toBe(0);
      placeInInput(readIvf(readFileSync(out)), readIvf(readFileSync(PATTERN)));
    } finally {
      publisher.p.kill('SIGTERM');
      await publisher.exited;
    }
  }, 300_000);
});
