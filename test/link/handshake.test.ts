/**
 * The link handshake state machines against each other in memory, and the handshake message
 * codecs: round trips, tampering, and a corpus of malformed payloads.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { type Cell, CellCommand, CellDecoder, NEED_MORE } from '../../node-core/cell';
import { nobleSuite as suite } from '../../node-core/crypto/noble';
import { LinkError } from '../../node-core/link/errors';
import { type HandshakeAction, InitiatorHandshake, ResponderHandshake } from '../../node-core/link/handshake';
import {
  decodeAuthChallenge,
  decodeAuthenticate,
  decodeCerts,
  decodeVersions,
  encodeAuthChallenge,
  encodeCerts,
  encodeVersions,
  negotiateVersion,
} from '../../node-core/link/messages';
import { fromHex } from '../../node-core/util/bytes';
import { newIdentity } from '../support/raw-link';

function cellsOf(actions: HandshakeAction[]): Cell[] {
  const d = new CellDecoder();
  const out: Cell[] = [];
  for (const a of actions) {
    if (a.type !== 'send') continue;
    d.push(a.bytes);
    for (let c = d.next(); c !== NEED_MORE; c = d.next()) out.push(c);
  }
  return out;
}

interface Setup {
  initiatorExporter?: Uint8Array;
  initiatorCertHash?: Uint8Array;
  expectedByInitiator?: Uint8Array;
  expectedByResponder?: Uint8Array;
  allowBypass?: boolean;
  authenticate?: boolean;
  tamper?: (cell: Cell, from: 'initiator' | 'responder') => Cell;
}

function run(s: Setup = {}) {
  const server = newIdentity();
  const client = newIdentity();
  const exporter = suite.randomBytes(32);
  const certHash = suite.randomBytes(32);
  const init = new InitiatorHandshake({
    suite,
    ...(s.authenticate ? { identity: client } : {}),
    ...(s.expectedByInitiator ? { expectedPeer: s.expectedByInitiator } : { expectedPeer: server.publicKey }),
    peerTlsCertHash: s.initiatorCertHash ?? certHash,
    exporter: s.initiatorExporter ?? exporter,
  });
  const resp = new ResponderHandshake({
    suite,
    identity: server,
    allowBypass: s.allowBypass ?? true,
    ...(s.expectedByResponder ? { expectedPeer: s.expectedByResponder } : {}),
    ownTlsCertHash: certHash,
    exporter,
  });
  const opened: { side: string; peer: Uint8Array | null }[] = [];
  const tamper = s.tamper ?? ((c) => c);
  let toResp = cellsOf(init.start());
  let guard = 0;
  while (toResp.length && guard++ < 10) {
    const toInit: Cell[] = [];
    for (const c of toResp) {
      const acts = resp.receive(tamper(c, 'initiator'));
      for (const a of acts) if (a.type === 'open') opened.push({ side: 'responder', peer: a.peerIdentity });
      toInit.push(...cellsOf(acts));
    }
    toResp = [];
    for (const c of toInit) {
      const acts = init.receive(tamper(c, 'responder'));
      for (const a of acts) if (a.type === 'open') opened.push({ side: 'initiator', peer: a.peerIdentity });
      toResp.push(...cellsOf(acts));
    }
  }
  return { server, client, opened };
}

function codeOf(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof LinkError) return e.code;
    throw e;
  }
  return 'no error';
}

describe('handshake state machines', () => {
  it('anonymous: the initiator learns the node identity, the node learns nothing', () => {
    const { server, opened } = run();
    expect(opened).toEqual([
      { side: 'initiator', peer: server.publicKey },
      { side: 'responder', peer: null },
    ]);
  });

  it('authenticated: both sides learn each other', () => {
    const { server, client, opened } = run({ authenticate: true });
    expect(opened).toEqual([
      { side: 'initiator', peer: server.publicKey },
      { side: 'responder', peer: client.publicKey },
    ]);
  });

  it('refuses a binding made for another TLS session or certificate', () => {
    expect(codeOf(() => run({ initiatorExporter: suite.randomBytes(32) }))).toBe('tls-mismatch');
    expect(codeOf(() => run({ initiatorCertHash: suite.randomBytes(32) }))).toBe('tls-mismatch');
  });

  it('refuses an unexpected node identity', () => {
    expect(codeOf(() => run({ expectedByInitiator: newIdentity().publicKey }))).toBe('wrong-identity');
    expect(codeOf(() => run({ authenticate: true, expectedByResponder: newIdentity().publicKey }))).toBe('wrong-identity');
  });

  it('refuses bypass when the node does not allow it', () => {
    expect(codeOf(() => run({ allowBypass: false }))).toBe('bypass-refused');
    expect(run({ allowBypass: false, authenticate: true }).opened).toHaveLength(2);
  });

  it('refuses a tampered binding signature and a tampered AUTHENTICATE', () => {
    const flipLast = (c: Cell): Cell => {
      const p = c.payload.slice();
      p[p.length - 1]! ^= 1;
      return { ...c, payload: p };
    };
    expect(codeOf(() => run({ tamper: (c, from) => (from === 'responder' && c.command === CellCommand.Certs ? flipLast(c) : c) }))).toBe(
      'bad-signature',
    );
    expect(
      codeOf(() =>
        run({ authenticate: true, tamper: (c, from) => (from === 'initiator' && c.command === CellCommand.Authenticate ? flipLast(c) : c) }),
      ),
    ).toBe('bad-signature');
  });

  it('refuses cells out of order and keeps failing afterwards', () => {
    const resp = new ResponderHandshake({
      suite,
      identity: newIdentity(),
      allowBypass: true,
      ownTlsCertHash: new Uint8Array(32),
      exporter: new Uint8Array(32),
    });
    const bypass = { circId: 0, command: CellCommand.AuthBypass, payload: new Uint8Array(0) };
    expect(codeOf(() => resp.receive(bypass))).toBe('unexpected-cell');
    expect(codeOf(() => resp.receive({ circId: 0, command: CellCommand.Versions, payload: encodeVersions([2]) }))).toBe(
      'unexpected-cell',
    );
  });

  it('fails with no-common-version when versions do not meet', () => {
    const resp = new ResponderHandshake({
      suite,
      identity: newIdentity(),
      allowBypass: true,
      ownTlsCertHash: new Uint8Array(32),
      exporter: new Uint8Array(32),
    });
    expect(codeOf(() => resp.receive({ circId: 0, command: CellCommand.Versions, payload: encodeVersions([1, 3]) }))).toBe(
      'no-common-version',
    );
  });
});

describe('handshake message codecs', () => {
  it('negotiates the highest shared version', () => {
    expect(negotiateVersion([2, 3], [1, 2, 3, 4])).toBe(3);
    expect(negotiateVersion([2], [1])).toBeNull();
  });

  it('round-trips every message', () => {
    expect(decodeVersions(encodeVersions([2, 7]))).toEqual([2, 7]);
    const ch = { challenge: suite.randomBytes(32), methods: [3, 2] };
    expect(decodeAuthChallenge(encodeAuthChallenge(ch))).toEqual(ch);
    const certs = {
      identity: suite.randomBytes(32),
      binding: {
        identityKey: suite.randomBytes(32),
        tlsCertHash: suite.randomBytes(32),
        exporter: suite.randomBytes(32),
        signature: suite.randomBytes(64),
      },
    };
    expect(decodeCerts(encodeCerts(certs))).toEqual(certs);
  });

  const bad: [string, () => unknown, string][] = [
    ['empty VERSIONS', () => decodeVersions(new Uint8Array(0)), 'malformed'],
    ['odd VERSIONS', () => decodeVersions(Uint8Array.of(0, 2, 0)), 'malformed'],
    ['CERTS count beyond data', () => decodeCerts(Uint8Array.of(2, 4, 0, 32, ...new Uint8Array(32))), 'malformed'],
    ['CERTS unknown type', () => decodeCerts(Uint8Array.of(1, 9, 0, 1, 0)), 'bad-certs'],
    ['CERTS repeated identity', () => decodeCerts(Uint8Array.of(2, 4, 0, 32, ...new Uint8Array(32), 4, 0, 32, ...new Uint8Array(32))), 'bad-certs'],
    ['CERTS short identity', () => decodeCerts(Uint8Array.of(1, 4, 0, 31, ...new Uint8Array(31))), 'malformed'],
    ['CERTS trailing byte', () => decodeCerts(Uint8Array.of(0, 1)), 'malformed'],
    ['AUTH_CHALLENGE short', () => decodeAuthChallenge(new Uint8Array(33)), 'malformed'],
    ['AUTH_CHALLENGE too many methods', () => decodeAuthChallenge(Uint8Array.of(...new Uint8Array(32), 0, 17)), 'malformed'],
    ['AUTHENTICATE wrong type', () => decodeAuthenticate(fromHex('00010000')), 'malformed'],
    ['AUTHENTICATE wrong length', () => decodeAuthenticate(fromHex('00030001ff')), 'malformed'],
  ];
  it.each(bad)('rejects %s', (_name, fn, code) => {
    expect(codeOf(fn)).toBe(code);
  });

  it('decoders throw nothing but LinkError on arbitrary bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ size: 'max', maxLength: 600 }), (bytes) => {
        for (const dec of [decodeVersions, decodeCerts, decodeAuthChallenge, decodeAuthenticate]) {
          try {
            dec(bytes);
          } catch (e) {
            if (!(e instanceof LinkError)) throw e;
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});
