/**
 * A node's Curve25519 onion keys (the ntor "B"), kept sealed at rest next to the identity key
 * and rotated on a schedule (DESIGN §3). After a rotation the previous key still answers CREATEs
 * for a grace period, so clients holding a slightly old directory can still build circuits.
 *
 * File layout (inside the sealed envelope): version u8 = 1 | createdAt u64 | secret 32 |
 * hasPrevious u8 | [prevCreatedAt u64 | prevSecret 32].
 */
import { existsSync } from 'node:fs';
import type { CryptoSuite } from '../../crypto/api';
import type { NtorOnionKeyPair } from '../../circuit';
import { Reader, Writer } from '../../util/bytes';
import { readKeyFile, writeKeyFile, type WriteKeyFileOptions } from '../keystore';

/** Default rotation period of onion keys: one week. */
export const ONION_KEY_ROTATION_MS = 7 * 24 * 3600 * 1000;

interface Stored {
  createdAt: number;
  secret: Uint8Array;
}

export class OnionKeyRing {
  private scrypt: WriteKeyFileOptions['scrypt'] | undefined;

  private constructor(
    private readonly path: string,
    private readonly passphrase: string,
    private readonly suite: CryptoSuite,
    readonly rotationMs: number,
    private current: Stored,
    private previous: Stored | null,
  ) {}

  static async load(
    path: string,
    passphrase: string,
    suite: CryptoSuite,
    rotationMs: number,
    now = Date.now(),
    scrypt?: WriteKeyFileOptions['scrypt'],
  ): Promise<OnionKeyRing> {
    if (existsSync(path)) {
      const blob = await readKeyFile(path, passphrase, { suite });
      const r = new Reader(blob, () => new Error(`onion key file ${path} is damaged`));
      if (r.u8() !== 1) throw new Error(`onion key file ${path} has an unknown version`);
      const current = { createdAt: Number(r.u64()), secret: r.bytes(32).slice() };
      const previous = r.u8() === 1 ? { createdAt: Number(r.u64()), secret: r.bytes(32).slice() } : null;
      const ring = new OnionKeyRing(path, passphrase, suite, rotationMs, current, previous);
      await ring.rotateIfDue(now);
      return ring;
    }
    const ring = new OnionKeyRing(path, passphrase, suite, rotationMs, { createdAt: now, secret: suite.randomBytes(32) }, null);
    ring.scrypt = scrypt;
    await ring.save();
    return ring;
  }

  private async save(): Promise<void> {
    const w = new Writer().u8(1).u64(BigInt(this.current.createdAt)).bytes(this.current.secret);
    if (this.previous) w.u8(1).u64(BigInt(this.previous.createdAt)).bytes(this.previous.secret);
    else w.u8(0);
    const blob = w.finish();
    await writeKeyFile(this.path, blob, this.passphrase, { suite: this.suite, overwrite: true, ...(this.scrypt ? { scrypt: this.scrypt } : {}) });
    blob.fill(0);
  }

  /** Rotates when the current key is older than the rotation period; returns true if it did. */
  async rotateIfDue(now = Date.now()): Promise<boolean> {
    if (now - this.current.createdAt < this.rotationMs) return false;
    this.previous?.secret.fill(0);
    this.previous = this.current;
    this.current = { createdAt: now, secret: this.suite.randomBytes(32) };
    await this.save();
    return true;
  }

  /** The current public key (published in the node's descriptor). */
  get publicKey(): Uint8Array {
    return this.suite.x25519PublicKey(this.current.secret);
  }

  /** Keys that answer CREATEs: the current one and, within its grace period, the previous. */
  pairs(now = Date.now()): NtorOnionKeyPair[] {
    const out: NtorOnionKeyPair[] = [{ secret: this.current.secret, public: this.publicKey }];
    if (this.previous && now - this.current.createdAt < this.rotationMs) {
      out.push({ secret: this.previous.secret, public: this.suite.x25519PublicKey(this.previous.secret) });
    }
    return out;
  }
}
