/**
 * All building blocks together, in memory, the way a circuit driver combines them: CREATE to the
 * first hop, EXTEND through the circuit to the second and third, then a 10 KiB message to the
 * last hop in ESCAPE cells and a reply back.
 */
import { describe, expect, it } from 'vitest';
import { nobleSuite } from '../../node-core/crypto/noble';
import {
  ClientCircuitCrypto,
  HandshakeType,
  Reassembler,
  RelayCommand,
  RelayHopCrypto,
  decodeCreate,
  decodeCreated,
  decodeExtend,
  decodeExtended,
  decodeRelayCell,
  encodeCreate,
  encodeCreated,
  encodeExtend,
  encodeExtended,
  encodeRelayCell,
  fragmentMessage,
  ntorClientComplete,
  ntorClientCreate,
  ntorServerHandle,
  type RelayCell,
} from '../../node-core/circuit/index';
import { patternBytes, toHex } from './helpers';

const suite = nobleSuite;

interface Node {
  identity: Uint8Array;
  onionKey: { secret: Uint8Array; public: Uint8Array };
  address: Uint8Array;
  /** This node's crypto for the circuit under test, once created. */
  hop?: RelayHopCrypto;
}

function makeNode(seed: number): Node {
  const secret = patternBytes(32, seed + 1);
  return {
    identity: suite.ed25519PublicKey(patternBytes(32, seed)),
    onionKey: { secret, public: suite.x25519PublicKey(secret) },
    address: Uint8Array.of(10, 0, 0, seed & 0xff),
  };
}

/** A node answering a CREATE cell payload with a CREATED cell payload. */
function answerCreate(node: Node, createPayload: Uint8Array): Uint8Array {
  const create = decodeCreate(createPayload);
  const { reply, keyMaterial } = ntorServerHandle(suite, create.handshake, { nodeId: node.identity, onionKeys: [node.onionKey] });
  node.hop = new RelayHopCrypto(suite, keyMaterial);
  keyMaterial.fill(0);
  return encodeCreated({ handshake: reply });
}

describe('a 3-hop circuit built and used with the pure building blocks', () => {
  it('extends hop by hop and carries a fragmented message both ways', () => {
    const nodes = [makeNode(10), makeNode(20), makeNode(30)];
    const client = new ClientCircuitCrypto(suite);

    /** Client → hop `target` and back: the relays in between forward, the target answers. */
    const roundTrip = (target: number, cell: RelayCell, answer: (c: RelayCell) => RelayCell): { hopIndex: number; cell: RelayCell } => {
      let p = client.encryptForward(encodeRelayCell(cell), target);
      for (let i = 0; ; i++) {
        const r = nodes[i]!.hop!.decryptForward(p);
        if (r.recognized) {
          expect(i).toBe(target);
          let back = nodes[i]!.hop!.encryptBackward(encodeRelayCell(answer(decodeRelayCell(r.payload))), true);
          for (let j = i - 1; j >= 0; j--) back = nodes[j]!.hop!.encryptBackward(back, false);
          const got = client.decryptBackward(back);
          return { hopIndex: got.hopIndex, cell: decodeRelayCell(got.payload) };
        }
        p = r.payload;
      }
    };

    // Hop 0: CREATE / CREATED.
    const first = ntorClientCreate(suite, { nodeId: nodes[0]!.identity, nodeOnionKey: nodes[0]!.onionKey.public });
    const createdPayload = answerCreate(nodes[0]!, encodeCreate({ handshakeType: HandshakeType.NtorV1Psp, handshake: first.onionskin }));
    client.addHop(ntorClientComplete(suite, first.state, decodeCreated(createdPayload).handshake));

    // Hops 1 and 2: EXTEND to the current last hop, which sends CREATE and wraps CREATED into EXTENDED.
    for (const next of [1, 2]) {
      const target = nodes[next]!;
      const hs = ntorClientCreate(suite, { nodeId: target.identity, nodeOnionKey: target.onionKey.public });
      const extend = encodeExtend({
        linkSpecifiers: [
          { type: 'ipv4', address: target.address, port: 9001 },
          { type: 'ed25519', identity: target.identity },
        ],
        create: { handshakeType: HandshakeType.NtorV1Psp, handshake: hs.onionskin },
      });
      const res = roundTrip(next - 1, { command: RelayCommand.Extend, data: extend }, (cell) => {
        expect(cell.command).toBe(RelayCommand.Extend);
        const req = decodeExtend(cell.data);
        const ed = req.linkSpecifiers.find((s) => s.type === 'ed25519');
        expect(ed && toHex(ed.identity)).toBe(toHex(target.identity));
        const created = decodeCreated(answerCreate(target, encodeCreate(req.create)));
        return { command: RelayCommand.Extended, data: encodeExtended(created) };
      });
      expect(res.hopIndex).toBe(next - 1);
      expect(res.cell.command).toBe(RelayCommand.Extended);
      client.addHop(ntorClientComplete(suite, hs.state, decodeExtended(res.cell.data).handshake));
    }
    expect(client.hopCount).toBe(3);

    // A 10 KiB message to hop 2 in ESCAPE cells; hop 2 reassembles it.
    const message = patternBytes(10 * 1024, 77);
    const atExit = new Reassembler();
    let received: Uint8Array | null = null;
    for (const frag of fragmentMessage(message)) {
      let p = client.encryptForward(encodeRelayCell({ command: RelayCommand.Escape, data: frag }), 2);
      for (let i = 0; i < 3; i++) {
        const r = nodes[i]!.hop!.decryptForward(p);
        if (r.recognized) {
          expect(i).toBe(2);
          const cell = decodeRelayCell(r.payload);
          expect(cell.command).toBe(RelayCommand.Escape);
          received = atExit.push(cell.data) ?? received;
          break;
        }
        p = r.payload;
      }
    }
    expect(toHex(received!)).toBe(toHex(message));

    // A 3 KiB reply from hop 2, reassembled by the client (one Reassembler per hop).
    const replyMsg = patternBytes(3000, 5);
    const atClient = new Reassembler();
    let reply: Uint8Array | null = null;
    for (const frag of fragmentMessage(replyMsg)) {
      let back = nodes[2]!.hop!.encryptBackward(encodeRelayCell({ command: RelayCommand.Escape, data: frag }), true);
      back = nodes[1]!.hop!.encryptBackward(back, false);
      back = nodes[0]!.hop!.encryptBackward(back, false);
      const got = client.decryptBackward(back);
      expect(got.hopIndex).toBe(2);
      reply = atClient.push(decodeRelayCell(got.payload).data) ?? reply;
    }
    expect(toHex(reply!)).toBe(toHex(replyMsg));
  });
});
