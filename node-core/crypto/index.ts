/**
 * node-core/crypto: the pure crypto layer. The node:crypto suite (`nodeSuite`, `nodeScrypt`) and
 * key files live in node-core/io (crypto-node.ts, keystore.ts), not here.
 */
export type { CryptoSuite, CtrStream, RunningHash, CryptoErrorCode } from './api';
export { CryptoError } from './api';
export { nobleSuite } from './noble';
export {
  IDENTITY_KIND,
  MAX_IDENTITY_LENGTH,
  IdentityError,
  formatIdentity,
  isValidIdentityLabel,
  parseIdentity,
  type Identity,
  type IdentityErrorCode,
} from './identity';
export {
  DEFAULT_SCRYPT_PARAMS,
  MAX_SECRET_LENGTH,
  SCRYPT_LIMITS,
  SealedError,
  inspectEnvelope,
  nobleScrypt,
  openSecret,
  sealSecret,
  type OpenOptions,
  type ScryptKdf,
  type ScryptParams,
  type SealOptions,
  type SealedErrorCode,
} from './sealed';
