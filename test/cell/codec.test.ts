import { describe, expect, it } from 'vitest';
import {
  ALL_CELL_COMMANDS,
  CELL_ERROR_CODES,
  CELL_HEADER_LEN,
  CELL_PAYLOAD_LEN,
  CellCommand,
  CellError,
  DEFAULT_CELL_LIMITS,
  FIXED_CELL_LEN,
  MAX_VAR_PAYLOAD,
  NEED_MORE,
  VAR_HEADER_LEN,
  commandName,
  decodeCell,
  encodeCell,
  encodeCellInto,
  encodedCellLength,
  isKnownCommand,
  isVariableLength,
  requiresCircuitId,
} from '../../node-core/cell';
import type { Cell, CellErrorCode } from '../../node-core/cell';
import { fromHex, toHex } from '../../node-core/util/bytes';
import goodCells from './vectors/good-cells.json';
import { asDecoded } from './arbitraries';

function cellErrorCode(f: () => unknown): CellErrorCode | 'no error' | 'other error' {
  try {
    f();
  } catch (err) {
    return err instanceof CellError ? err.code : 'other error';
  }
  return 'no error';
}

function sampleCell(command: CellCommand): Cell {
  const circId = requiresCircuitId(command) ? 0x80000000 + command : 0;
  const payload =
    command === CellCommand.Padding ? new Uint8Array(0) : Uint8Array.from({ length: 40 + command }, (_, i) => (i * 7 + command) & 0xff);
  return { circId, command, payload };
}

describe('constants and command table', () => {
  it('has the sizes of binary/cell.md', () => {
    expect(CELL_PAYLOAD_LEN).toBe(509);
    expect(FIXED_CELL_LEN).toBe(514);
    expect(VAR_HEADER_LEN).toBe(7);
    expect(CELL_HEADER_LEN).toBe(5);
    expect(MAX_VAR_PAYLOAD).toBe(65535);
    expect(DEFAULT_CELL_LIMITS.maxVarPayload).toBe(65535);
  });

  it('has exactly the commands of the table plus RELAY_EARLY', () => {
    expect([...ALL_CELL_COMMANDS]).toEqual([1, 2, 3, 4, 5, 9, 128, 129, 130, 131, 132, 133, 134, 135, 136]);
    const known = [];
    for (let v = 0; v < 256; v++) if (isKnownCommand(v)) known.push(v);
    expect(known).toEqual([...ALL_CELL_COMMANDS]);
    expect(CellCommand.RelayEarly).toBe(9);
    expect(commandName(134)).toBe('StreamRelay');
    expect(commandName(6)).toBeUndefined();
    expect(isKnownCommand('5')).toBe(false);
    expect(isKnownCommand(5.5)).toBe(false);
  });

  it('isVariableLength is command >= 128', () => {
    for (let v = 0; v < 256; v++) expect(isVariableLength(v)).toBe(v >= 128);
    expect(() => isVariableLength(256)).toThrow(RangeError);
    expect(() => isVariableLength(-1)).toThrow(RangeError);
    expect(() => isVariableLength('1' as unknown as number)).toThrow(TypeError);
  });

  it('requiresCircuitId separates link cells from circuit cells', () => {
    const link = ALL_CELL_COMMANDS.filter((c) => !requiresCircuitId(c));
    expect(link).toEqual([
      CellCommand.Padding,
      CellCommand.Versions,
      CellCommand.AuthBypass,
      CellCommand.Certs,
      CellCommand.AuthChallenge,
      CellCommand.Authenticate,
    ]);
    expect(() => requiresCircuitId(6)).toThrow(RangeError);
  });

  it('error codes form a closed set', () => {
    expect([...CELL_ERROR_CODES].sort()).toEqual(
      ['bad-circuit-id', 'bad-padding', 'buffer-overflow', 'length-too-large', 'truncated', 'unknown-command'].sort(),
    );
    const err = new CellError('truncated', 'x');
    expect(err).toBeInstanceOf(Error);
    expect(err.name).toBe('CellError');
    expect(err.code).toBe('truncated');
  });
});

describe('good vectors (test/cell/vectors/good-cells.json)', () => {
  it('covers every command', () => {
    expect(new Set(goodCells.map((v) => v.command))).toEqual(new Set(ALL_CELL_COMMANDS));
  });

  for (const v of goodCells) {
    it(`${v.name}: decodes to the expected cell and re-encodes to identical bytes`, () => {
      const bytes = fromHex(v.hex);
      const r = decodeCell(bytes);
      if (r === NEED_MORE) throw new Error('unexpected NEED_MORE');
      expect(r.length).toBe(bytes.length);
      expect(r.cell.circId).toBe(v.circId);
      expect(r.cell.command).toBe(v.command);
      const given = fromHex(v.payloadHex);
      expect(toHex(r.cell.payload)).toBe(toHex(asDecoded({ circId: v.circId, command: v.command, payload: given }).payload));
      expect(toHex(encodeCell(r.cell))).toBe(v.hex);
      expect(toHex(encodeCell({ circId: v.circId, command: v.command, payload: given }))).toBe(v.hex);
    });
  }
});

describe('encodeCell / decodeCell round trip', () => {
  for (const command of ALL_CELL_COMMANDS) {
    it(`${CellCommand[command]} (${command})`, () => {
      const cell = sampleCell(command);
      const bytes = encodeCell(cell);
      expect(bytes.length).toBe(encodedCellLength(command, cell.payload.length));
      expect(bytes.length).toBe(command < 128 ? 514 : 7 + cell.payload.length);
      // Header layout: circuit id u32 BE, command u8, and for variable cells a u16 BE length.
      expect(bytes[0]! * 2 ** 24 + (bytes[1]! << 16) + (bytes[2]! << 8) + bytes[3]!).toBe(cell.circId);
      expect(bytes[4]).toBe(command);
      if (command >= 128) expect((bytes[5]! << 8) | bytes[6]!).toBe(cell.payload.length);
      const r = decodeCell(bytes);
      if (r === NEED_MORE) throw new Error('unexpected NEED_MORE');
      expect(r.length).toBe(bytes.length);
      expect(r.cell).toEqual(asDecoded(cell));
      expect(toHex(encodeCell(r.cell))).toBe(toHex(bytes));
    });
  }

  it('pads fixed payloads with zeros and keeps all 509 bytes when decoding', () => {
    const bytes = encodeCell({ circId: 9, command: CellCommand.Relay, payload: Uint8Array.of(1, 2, 3) });
    expect(toHex(bytes.subarray(0, 8))).toBe('0000000905010203');
    expect(bytes.subarray(8).every((b) => b === 0)).toBe(true);
    const r = decodeCell(bytes);
    if (r === NEED_MORE) throw new Error('unexpected NEED_MORE');
    expect(r.cell.payload.length).toBe(509);
  });

  it('accepts payloads at the size limits', () => {
    const full = new Uint8Array(509).fill(0xee);
    expect(encodeCell({ circId: 1, command: CellCommand.Relay, payload: full }).length).toBe(514);
    const big = new Uint8Array(MAX_VAR_PAYLOAD).fill(7);
    const bytes = encodeCell({ circId: 3, command: CellCommand.StreamRelay, payload: big });
    expect(bytes.length).toBe(7 + 65535);
    expect(toHex(bytes.subarray(0, 7))).toBe('0000000386ffff');
    const r = decodeCell(bytes);
    if (r === NEED_MORE) throw new Error('unexpected NEED_MORE');
    expect(r.cell.payload).toEqual(big);
    const empty = encodeCell({ circId: 0, command: CellCommand.AuthBypass, payload: new Uint8Array(0) });
    expect(toHex(empty)).toBe('00000000810000');
  });

  it('returns a payload copy that does not alias the input', () => {
    const bytes = encodeCell({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) });
    const r = decodeCell(bytes);
    if (r === NEED_MORE) throw new Error('unexpected NEED_MORE');
    bytes[8] = 9;
    expect([...r.cell.payload]).toEqual([0, 1]);
  });

  it('decodes at an offset and reports the bytes consumed', () => {
    const a = encodeCell({ circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) });
    const b = encodeCell({ circId: 5, command: CellCommand.Destroy, payload: Uint8Array.of(9) });
    const both = new Uint8Array([...a, ...b]);
    const r1 = decodeCell(both, 0);
    if (r1 === NEED_MORE) throw new Error('unexpected NEED_MORE');
    expect(r1.length).toBe(9);
    const r2 = decodeCell(both, r1.length);
    if (r2 === NEED_MORE) throw new Error('unexpected NEED_MORE');
    expect(r2.cell.command).toBe(CellCommand.Destroy);
    expect(r2.cell.circId).toBe(5);
    expect(decodeCell(both, both.length)).toBe(NEED_MORE);
  });
});

describe('decodeCell on incomplete input', () => {
  it('returns NEED_MORE for every proper prefix of a valid cell', () => {
    for (const command of ALL_CELL_COMMANDS) {
      const bytes = encodeCell(sampleCell(command));
      for (let n = 0; n < bytes.length; n++) {
        expect(decodeCell(bytes.subarray(0, n))).toBe(NEED_MORE);
      }
    }
  });

  it('NEED_MORE is a unique symbol, never null or undefined', () => {
    expect(typeof NEED_MORE).toBe('symbol');
    expect(decodeCell(new Uint8Array(0))).toBe(NEED_MORE);
  });
});

describe('decodeCell on bad cells', () => {
  it('refuses every unknown command byte, fixed or variable', () => {
    for (let v = 0; v < 256; v++) {
      if (isKnownCommand(v)) continue;
      const bytes = new Uint8Array(600);
      bytes[3] = 1;
      bytes[4] = v;
      expect(cellErrorCode(() => decodeCell(bytes))).toBe('unknown-command');
    }
  });

  it('enforces the circuit id rule for every command', () => {
    for (const command of ALL_CELL_COMMANDS) {
      const bytes = new Uint8Array(600);
      bytes[4] = command;
      const zero = cellErrorCode(() => decodeCell(bytes));
      bytes[0] = 0x80;
      const nonZero = cellErrorCode(() => decodeCell(bytes));
      if (requiresCircuitId(command)) {
        expect(zero).toBe('bad-circuit-id');
        expect(nonZero).toBe('no error');
      } else {
        expect(zero).toBe('no error');
        expect(nonZero).toBe('bad-circuit-id');
      }
    }
  });

  it('applies the variable-length limit, inclusive', () => {
    const at = encodeCell({ circId: 0, command: CellCommand.Certs, payload: new Uint8Array(8192) });
    const over = encodeCell({ circId: 0, command: CellCommand.Certs, payload: new Uint8Array(8193) });
    expect(cellErrorCode(() => decodeCell(at, 0, { maxVarPayload: 8192 }))).toBe('no error');
    expect(cellErrorCode(() => decodeCell(over, 0, { maxVarPayload: 8192 }))).toBe('length-too-large');
    expect(cellErrorCode(() => decodeCell(over.subarray(0, 7), 0, { maxVarPayload: 8192 }))).toBe('length-too-large');
    expect(cellErrorCode(() => decodeCell(over))).toBe('no error');
    // The limit does not apply to fixed cells.
    const relay = encodeCell({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(509) });
    expect(cellErrorCode(() => decodeCell(relay, 0, { maxVarPayload: 0 }))).toBe('no error');
  });

  it('reads PADDING leniently: any payload is accepted and returned as zeros', () => {
    const bytes = new Uint8Array(514);
    bytes[4] = CellCommand.Padding;
    bytes.fill(0x5a, 5);
    const r = decodeCell(bytes);
    if (r === NEED_MORE) throw new Error('unexpected NEED_MORE');
    expect(r.cell.payload).toEqual(new Uint8Array(509));
  });
});

describe('argument checks', () => {
  it('decodeCell checks its arguments with TypeError/RangeError', () => {
    expect(() => decodeCell([1, 2, 3] as unknown as Uint8Array)).toThrow(TypeError);
    expect(() => decodeCell(new Uint8Array(4), 5)).toThrow(RangeError);
    expect(() => decodeCell(new Uint8Array(4), -1)).toThrow(RangeError);
    expect(() => decodeCell(new Uint8Array(4), 1.5)).toThrow(RangeError);
    expect(() => decodeCell(new Uint8Array(4), 0, { maxVarPayload: 65536 })).toThrow(RangeError);
    expect(() => decodeCell(new Uint8Array(4), 0, { maxVarPayload: -1 })).toThrow(RangeError);
    expect(() => decodeCell(new Uint8Array(4), 0, {} as { maxVarPayload: number })).toThrow(TypeError);
    expect(() => decodeCell(new Uint8Array(4), 0, null as unknown as { maxVarPayload: number })).toThrow(TypeError);
  });

  it('encodeCell refuses oversized payloads with RangeError', () => {
    expect(() => encodeCell({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(510) })).toThrow(/cell\.payload/);
    expect(() => encodeCell({ circId: 1, command: CellCommand.Relay, payload: new Uint8Array(510) })).toThrow(RangeError);
    expect(() => encodeCell({ circId: 1, command: CellCommand.StreamRelay, payload: new Uint8Array(65536) })).toThrow(RangeError);
  });

  it('encodeCell checks field types and ranges', () => {
    const p = new Uint8Array(0);
    expect(() => encodeCell(null as unknown as Cell)).toThrow(TypeError);
    expect(() => encodeCell({ circId: '1', command: 5, payload: p } as unknown as Cell)).toThrow(/cell\.circId/);
    expect(() => encodeCell({ circId: -1, command: 5, payload: p })).toThrow(RangeError);
    expect(() => encodeCell({ circId: 2 ** 32, command: 5, payload: p })).toThrow(RangeError);
    expect(() => encodeCell({ circId: 1.5, command: 5, payload: p })).toThrow(RangeError);
    expect(() => encodeCell({ circId: 1, command: 256 as CellCommand, payload: p })).toThrow(RangeError);
    expect(() => encodeCell({ circId: 1, command: 5, payload: [1] as unknown as Uint8Array })).toThrow(/cell\.payload/);
  });

  it('encodeCell throws CellError for protocol rule violations', () => {
    const p = new Uint8Array(0);
    expect(cellErrorCode(() => encodeCell({ circId: 1, command: 6 as CellCommand, payload: p }))).toBe('unknown-command');
    expect(cellErrorCode(() => encodeCell({ circId: 1, command: 200 as CellCommand, payload: p }))).toBe('unknown-command');
    expect(cellErrorCode(() => encodeCell({ circId: 0, command: CellCommand.Relay, payload: p }))).toBe('bad-circuit-id');
    expect(cellErrorCode(() => encodeCell({ circId: 0, command: CellCommand.StreamCreate, payload: p }))).toBe('bad-circuit-id');
    expect(cellErrorCode(() => encodeCell({ circId: 1, command: CellCommand.Versions, payload: p }))).toBe('bad-circuit-id');
    expect(cellErrorCode(() => encodeCell({ circId: 1, command: CellCommand.Padding, payload: p }))).toBe('bad-circuit-id');
    expect(cellErrorCode(() => encodeCell({ circId: 0, command: CellCommand.Padding, payload: Uint8Array.of(0, 0, 1) }))).toBe(
      'bad-padding',
    );
    expect(cellErrorCode(() => encodeCell({ circId: 0, command: CellCommand.Padding, payload: new Uint8Array(509) }))).toBe(
      'no error',
    );
  });

  it('encodeCellInto writes at an offset, zero-pads over old bytes, and writes nothing on error', () => {
    const out = new Uint8Array(1100).fill(0xcc);
    const relay = { circId: 9, command: CellCommand.Relay, payload: Uint8Array.of(1, 2, 3) };
    expect(encodeCellInto(relay, out, 10)).toBe(514);
    expect(toHex(out.subarray(10, 524))).toBe(toHex(encodeCell(relay)));
    expect(out[9]).toBe(0xcc);
    expect(out[524]).toBe(0xcc);
    const versions = { circId: 0, command: CellCommand.Versions, payload: Uint8Array.of(0, 1) };
    expect(encodeCellInto(versions, out, 524)).toBe(9);
    expect(toHex(out.subarray(524, 533))).toBe('00000000800002' + '0001');

    const before = out.slice();
    expect(() => encodeCellInto(relay, out, 1000)).toThrow(RangeError); // 100 bytes left, 514 needed
    expect(() => encodeCellInto(relay, out, 1101)).toThrow(RangeError);
    expect(() => encodeCellInto(relay, [] as unknown as Uint8Array)).toThrow(TypeError);
    expect(cellErrorCode(() => encodeCellInto({ ...relay, circId: 0 }, out, 0))).toBe('bad-circuit-id');
    expect(out).toEqual(before);
  });

  it('encodedCellLength checks its arguments', () => {
    expect(encodedCellLength(5, 0)).toBe(514);
    expect(encodedCellLength(130, 10)).toBe(17);
    expect(() => encodedCellLength(5, 510)).toThrow(RangeError);
    expect(() => encodedCellLength(130, 65536)).toThrow(RangeError);
    expect(() => encodedCellLength(300, 1)).toThrow(RangeError);
  });
});
