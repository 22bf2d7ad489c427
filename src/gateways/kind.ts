/**
 * A gateway KIND: what a server needs to run gateways of one venue type from configuration — the gateway class,
 * the TypeBox schema of its setting (checked once, at the edge, with errors naming file and field), which
 * setting keys are secrets (masked in every listing, never logged), and optionally how to follow its
 * connection state.
 */
import type { TObject } from "@sinclair/typebox";
import type { BaseGateway, EventEngine, GatewayClass, GatewaySetting } from "../kernel/index.js";

/** VeighNa's connection vocabulary, shared by every kind. */
export type GatewayState = "connecting" | "connected" | "stale" | "disconnected";

export type StateReport = (state: GatewayState, reason: string) => void;

export interface GatewayKind {
  /** The `kind` of a gateway file: "sim", "rpc", ... */
  readonly id: string;
  readonly description: string;
  readonly gatewayClass: GatewayClass;
  /** The setting object; unknown keys are refused (they are usually typos). */
  readonly setting: TObject;
  /** Setting keys holding secrets (keys, passwords, tokens). */
  readonly secrets: readonly string[];
  /**
   * Checks the schema cannot express (a key file that must be readable), once at the edge with the rest:
   * the offending setting key and a message that never contains a secret, or null.
   */
  check?(setting: Readonly<GatewaySetting>): { field: string; message: string } | null;
  /** Defaults that depend on the server's home folder (e.g. where SIM keeps its journal). */
  defaults?(home: string): GatewaySetting;
  /**
   * Follows a gateway whose `connect` returns before it is connected (a remote link); returns the unsubscribe.
   * Without it a gateway counts as connected once `connect` returns and disconnected once closed.
   */
  watch?(gateway: BaseGateway, eventEngine: EventEngine, report: StateReport): () => void;
}

/** What a secret looks like in any listing. */
export const MASK = "********";

/** A copy of `setting` with every non-empty secret replaced by MASK. */
export function maskSetting(kind: GatewayKind, setting: Readonly<GatewaySetting>): GatewaySetting {
  const masked: GatewaySetting = { ...setting };
  for (const key of kind.secrets) {
    const value = masked[key];
    if (value !== undefined && value !== "") masked[key] = MASK;
  }
  return masked;
}

/** The non-empty secret values of a setting (to prove in tests that they appear nowhere). */
export function secretValues(kind: GatewayKind, setting: Readonly<GatewaySetting>): string[] {
  const values: string[] = [];
  for (const key of kind.secrets) {
    const value = setting[key];
    if (typeof value === "string" && value !== "") values.push(value);
  }
  return values;
}
