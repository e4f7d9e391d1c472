export { LinkError, type LinkErrorCode } from './errors';
export * from './messages';
export { InitiatorHandshake, ResponderHandshake, type HandshakeAction, type IdentityKeys, type InitiatorOptions, type ResponderOptions } from './handshake';
export { makeLinkCertificate, type LinkCertificate } from './x509';
