/**
 * ccxt's error classes to the reasons an order ends with. ccxt's hierarchy decides: RateLimitExceeded and
 * DDoSProtection are NetworkErrors whose request the exchange refused (the order does not exist), while any other
 * NetworkError (a timeout, a dropped connection, maintenance) leaves the order's fate unknown, so the gateway asks
 * the exchange instead of guessing.
 */
import { messageOf } from "../kernel/index.js";

export type RejectCode =
  | "INSUFFICIENT_FUNDS"
  | "INVALID_ORDER"
  | "RATE_LIMITED"
  | "AUTHENTICATION"
  | "NETWORK"
  | "EXCHANGE"
  | "UNSUPPORTED";

export interface Classified {
  readonly code: RejectCode;
  /** "insufficient funds: binance Account has insufficient balance for requested action." */
  readonly reason: string;
  /** The order may exist at the exchange: ask before saying anything. */
  readonly ambiguous: boolean;
}

/** The class names of an error and its ancestors, most specific first (ccxt errors name themselves). */
export function errorClasses(error: unknown): string[] {
  const names: string[] = [];
  let proto: object | null = error !== null && typeof error === "object" ? Object.getPrototypeOf(error) : null;
  while (proto && proto !== Object.prototype) {
    const name = (proto as { constructor?: { name?: string } }).constructor?.name;
    if (name) names.push(name);
    proto = Object.getPrototypeOf(proto);
  }
  return names;
}

const LABELS: Record<RejectCode, string> = {
  INSUFFICIENT_FUNDS: "insufficient funds",
  INVALID_ORDER: "invalid order",
  RATE_LIMITED: "rate limited",
  AUTHENTICATION: "authentication failed",
  NETWORK: "network error",
  EXCHANGE: "exchange error",
  UNSUPPORTED: "not supported",
};

export function classify(error: unknown): Classified {
  const classes = errorClasses(error);
  const message = messageOf(error);
  const has = (name: string): boolean => classes.includes(name);
  let code: RejectCode;
  let ambiguous = false;
  if (has("InsufficientFunds")) code = "INSUFFICIENT_FUNDS";
  else if (has("InvalidOrder") || has("BadSymbol") || has("BadRequest") || has("ArgumentsRequired")) code = "INVALID_ORDER";
  else if (has("RateLimitExceeded") || has("DDoSProtection")) code = "RATE_LIMITED";
  else if (has("AuthenticationError") || has("PermissionDenied") || has("AccountSuspended")) code = "AUTHENTICATION";
  else if (has("NotSupported")) code = "UNSUPPORTED";
  else if (has("NetworkError")) {
    code = "NETWORK";
    ambiguous = true;
  } else code = "EXCHANGE";
  return { code, reason: `${LABELS[code]}: ${message}`, ambiguous };
}

export function isOrderNotFound(error: unknown): boolean {
  return errorClasses(error).includes("OrderNotFound");
}
