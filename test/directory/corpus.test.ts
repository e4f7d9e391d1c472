/**
 * The vector corpora in test/vectors/directory/: the files are exactly what the deterministic
 * generator (test/directory/corpus.ts) builds from fixed seeds, every good entry verifies (and
 * re-encodes to its own bytes), and every bad entry fails with exactly its expected code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { AUTHORITY_ERROR_CODES } from '../../node-core/authority';
import { DIRECTORY_ERROR_CODES } from '../../node-core/directory';
import { CORPUS_DIR, type CorpusFile, buildCorpora, checkEntry, serialize } from './corpus';

const built = buildCorpora();
const AUTHORITY_FILES = new Set(['registrations.json', 'certificate-requests.json', 'access-certificates.json', 'authority-messages.json']);

describe.each(Object.keys(built))('corpus %s', (file) => {
  const onDisk = readFileSync(join(CORPUS_DIR, file), 'utf8');
  const corpus = JSON.parse(onDisk) as CorpusFile;
  const codes: readonly string[] = AUTHORITY_FILES.has(file) ? AUTHORITY_ERROR_CODES : DIRECTORY_ERROR_CODES;

  it('is what the generator builds from its fixed seeds (regenerate: npx tsx test/directory/corpus.ts --write)', () => {
    expect(onDisk).toBe(serialize(built[file]!));
  });

  it('has distinct names, known codes and a fair number of bad cases', () => {
    const names = [...corpus.good, ...corpus.bad].map((e) => e.name);
    expect(new Set(names).size).toBe(names.length);
    expect(corpus.bad.length).toBeGreaterThanOrEqual(7);
    for (const e of corpus.bad) expect(codes).toContain(e.code);
  });

  it.each(corpus.good.map((e) => [e.name, e] as const))('good: %s', (_name, entry) => {
    const out = checkEntry(file, corpus, entry.hex);
    expect(out).toMatchObject({ kind: 'ok' });
    if (out.kind !== 'ok') return;
    const expected = entry as unknown as Record<string, unknown>;
    for (const fact of ['signers', 'descriptors', 'dropped'] as const) {
      if (expected[fact] !== undefined) expect(out.facts[fact]).toBe(expected[fact]);
    }
    if (out.facts['reencoded'] !== undefined) expect(out.facts['reencoded']).toBe(entry.hex);
  });

  it.each(corpus.bad.map((e) => [e.name, e.code, e] as const))('bad: %s → %s', (_name, code, entry) => {
    expect(checkEntry(file, corpus, entry.hex)).toEqual({ kind: 'error', code });
  });
});

describe('corpora together', () => {
  it('cover every verification code of the consensus and the access certificate', () => {
    const consensusCodes = new Set(built['consensus.json']!.bad.map((e) => e.code));
    for (const c of ['malformed', 'not-canonical', 'unknown-signer', 'bad-signature', 'too-few-signatures', 'expired', 'not-yet-valid', 'wrong-network']) {
      expect(consensusCodes).toContain(c);
    }
    const certCodes = new Set(built['access-certificates.json']!.bad.map((e) => e.code));
    for (const c of ['expired', 'not-yet-valid', 'too-few-signatures', 'bad-signature', 'unknown-signer', 'wrong-subject', 'malformed']) {
      expect(certCodes).toContain(c);
    }
  });
});
