/** Errors of the ccxt gateway's own making. Order rejections are not errors: they are order states with a reason. */

export type CcxtErrorCode =
  /** A connect setting or the setting file is missing, of the wrong type or out of range. */
  | "ERR_CCXT_SETTING"
  /** The exchange id is not one of ccxt's, or the exchange could not load its markets. */
  | "ERR_CCXT_CONNECT"
  /** A request arrived before `connect` or after `close`. */
  | "ERR_CCXT_NOT_CONNECTED";

export class CcxtError extends Error {
  readonly code: CcxtErrorCode;

  constructor(code: CcxtErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "CcxtError";
    this.code = code;
  }
}
