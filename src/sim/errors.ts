/** Errors of the simulated exchange. Order rejections are not errors: they are order states with a reason. */

export type SimErrorCode =
  /** A connect setting is missing, of the wrong type or out of range. */
  | "ERR_SIM_SETTING"
  /** A contracts file cannot be read or one of its entries is invalid. */
  | "ERR_SIM_CONTRACTS"
  /** The venue's database cannot be opened, is of an unknown schema, or a write failed. */
  | "ERR_SIM_STORE"
  /** A request arrived before `connect` or after `close`. */
  | "ERR_SIM_NOT_CONNECTED";

export class SimError extends Error {
  readonly code: SimErrorCode;

  constructor(code: SimErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "SimError";
    this.code = code;
  }
}
