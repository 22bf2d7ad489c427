/** Machine-readable error codes used by {@link ZmtpError}. */
export type ZmtpErrorCode =
  | "EPROTO" // peer broke the wire protocol
  | "EMSGSIZE" // a frame or message exceeded maxMessageSize
  | "EHANDSHAKE_TIMEOUT" // greeting + mechanism handshake took too long
  | "EMECHANISM" // security mechanism mismatch or failure
  | "EAUTH" // CURVE key refused by the allow-list hook
  | "ESOCKETTYPE" // peer socket type is not compatible with ours
  | "EHEARTBEAT" // peer stopped answering heartbeats
  | "ECLOSED" // local side closed the socket / connection
  | "ECONNRESET" // the transport went away
  | "EBUSY" // an operation is already in flight (REQ)
  | "ETIMEDOUT" // a request timed out
  | "EENDPOINT" // malformed or unsupported endpoint
  | "EINVAL"; // bad argument

/** Error type of the zmtp module; `code` says what went wrong without string matching. */
export class ZmtpError extends Error {
  readonly code: ZmtpErrorCode;
  constructor(code: ZmtpErrorCode, message: string) {
    super(message);
    this.name = "ZmtpError";
    this.code = code;
  }
}
