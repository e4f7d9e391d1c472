export * from './envelope';
export { CircuitRpc, RemoteError, RequestTimeoutError } from './rpc';
export { MessageRouter, HandlerError, type RequestHandler, type NoticeHandler } from './router';
