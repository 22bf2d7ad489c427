/**
 * Gateway configuration: the kind registry, the gateway files of a home folder and the `serve` flags, turned
 * into a checked list of gateways to run.
 *
 * A gateway file is `<home>/connect_<anything>.json` (VeighNa keeps `connect_<gateway>.json` there too):
 *
 *   {"kind": "rpc", "name": "CTP", "setting": {"req_address": "ipc:///run/vnpy/req", "sub_address": "ipc:///run/vnpy/sub"}}
 *
 * Everything is checked here, once: a wrong entry is a GatewayConfigError naming the file and the field, and
 * never echoes a value (it may be a secret).
 */
import { readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { Type, type TObject } from "@sinclair/typebox";
import { TypeCompiler, type TypeCheck } from "@sinclair/typebox/compiler";
import { Value } from "@sinclair/typebox/value";
import type { GatewaySetting } from "../kernel/index.js";
import { GatewayConfigError } from "./errors.js";
import type { GatewayKind } from "./kind.js";
import { BUILTIN_KINDS } from "./kinds/index.js";

/** One gateway to run, checked. */
export interface GatewayConfig {
  readonly kind: string;
  readonly name: string;
  readonly setting: Readonly<GatewaySetting>;
  /** Where it came from: a file name or a flag (error messages and listings). */
  readonly source: string;
}

export const GATEWAY_FILE_PATTERN = /^connect_.+\.json$/;

/** Names become the first part of vt ids (`CTP.42`), so no dot, no space. */
const NAME_PATTERN = "^[A-Za-z0-9_-]{1,32}$";

const Entry = Type.Object(
  {
    kind: Type.String({ minLength: 1 }),
    name: Type.Optional(Type.String({ pattern: NAME_PATTERN })),
    setting: Type.Optional(Type.Object({})),
  },
  { additionalProperties: false },
);
const entryCheck = TypeCompiler.Compile(Entry);

/** Kind id -> kind, with each setting schema compiled once. */
export class GatewayKinds {
  private readonly kinds = new Map<string, { kind: GatewayKind; check: TypeCheck<TObject> }>();

  constructor(kinds: readonly GatewayKind[] = BUILTIN_KINDS) {
    for (const kind of kinds) this.register(kind);
  }

  register(kind: GatewayKind): void {
    if (this.kinds.has(kind.id)) throw new Error(`gateway kind ${kind.id} is registered twice`);
    this.kinds.set(kind.id, { kind, check: TypeCompiler.Compile(kind.setting) });
  }

  get(id: string): GatewayKind | undefined {
    return this.kinds.get(id)?.kind;
  }

  ids(): string[] {
    return [...this.kinds.keys()];
  }

  /** Checks one entry (a parsed file, or one built from flags) and returns it with defaults applied. */
  parse(value: unknown, source: string, home: string): GatewayConfig {
    const envelope = firstError(entryCheck, value);
    if (envelope) {
      const message = envelope.field === "name" ? `must match ${NAME_PATTERN} (it starts every vt id)` : envelope.message;
      throw new GatewayConfigError(source, envelope.field, message);
    }
    const entry = value as { kind: string; name?: string; setting?: Record<string, unknown> };
    const found = this.kinds.get(entry.kind);
    if (!found) throw new GatewayConfigError(source, "kind", `unknown kind ${JSON.stringify(entry.kind)}; known: ${this.ids().join(", ")}`);
    // The schema's defaults first: a kind whose schema has them (ccxt) lists every key, the file only some.
    const setting: unknown = Value.Default(found.kind.setting, { ...(entry.setting ?? {}) });
    const bad = firstError(found.check, setting);
    if (bad) throw new GatewayConfigError(source, `setting.${bad.field}`.replace(/\.$/, ""), bad.message);
    const { kind } = found;
    const merged: GatewaySetting = { ...(kind.defaults?.(home) ?? {}), ...(setting as GatewaySetting) };
    const refused = kind.check?.(merged);
    if (refused) throw new GatewayConfigError(source, `setting.${refused.field}`, refused.message);
    return { kind: kind.id, name: entry.name ?? kind.gatewayClass.defaultName, setting: merged, source };
  }
}

/**
 * The first schema error as a dotted field and a message that never contains the value: the schema's own
 * `errorMessage` when it has one (a pattern is no help to a user), else TypeBox's.
 */
function firstError(check: TypeCheck<TObject>, value: unknown): { field: string; message: string } | null {
  if (check.Check(value)) return null;
  const error = check.Errors(value).First();
  if (!error) return { field: "", message: "invalid" };
  const field = error.path.replace(/^\//, "").replace(/\//g, ".");
  const custom = (error.schema as { errorMessage?: unknown }).errorMessage;
  return { field, message: typeof custom === "string" ? custom : error.message };
}

/** Reads every `connect_*.json` of the home folder, in name order. */
export function loadGatewayFiles(home: string, kinds: GatewayKinds): GatewayConfig[] {
  let names: string[];
  try {
    names = readdirSync(home).filter((name) => GATEWAY_FILE_PATTERN.test(name)).sort();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === "ENOENT") return [];
    throw error;
  }
  return names.map((name) => {
    let value: unknown;
    try {
      value = JSON.parse(readFileSync(join(home, name), "utf8"));
    } catch (error) {
      throw new GatewayConfigError(name, "", `not valid JSON (${(error as Error).message})`);
    }
    return kinds.parse(value, name, home);
  });
}

/** `--upstream REQ,SUB [--upstream-name NAME] [--upstream-key FILE --upstream-server-key KEY]`. */
export interface UpstreamFlags {
  readonly addresses: string;
  readonly name?: string;
  readonly keyFile?: string;
  readonly serverKey?: string;
}

export interface GatewayPlanOptions {
  readonly home: string;
  readonly kinds: GatewayKinds;
  /** Default: the home folder's gateway files. */
  readonly files?: readonly GatewayConfig[];
  readonly upstream?: UpstreamFlags;
  /** true: run SIM; false: never; undefined: only when no other gateway is configured. */
  readonly sim?: boolean;
  /** SIM settings given as flags: over the file's (or the default) setting. */
  readonly simSetting?: Readonly<GatewaySetting>;
}

/** The gateways `serve` runs: the files, the upstream flag, and SIM by the --sim/--no-sim rule. */
export function planGateways(options: GatewayPlanOptions): GatewayConfig[] {
  const { home, kinds } = options;
  const files = options.files ?? loadGatewayFiles(home, kinds);
  const planned: GatewayConfig[] = [];
  for (const config of files) {
    if (config.kind === "sim" && options.sim === false) continue;
    planned.push(config);
  }
  if (options.upstream) planned.push(upstreamConfig(options.upstream, kinds, home));
  const others = planned.filter((config) => config.kind !== "sim").length;
  const wantSim = options.sim ?? others === 0;
  let sims = planned.filter((config) => config.kind === "sim");
  if (wantSim && sims.length === 0) {
    const config = kinds.parse({ kind: "sim" }, "default", home);
    planned.unshift(config);
    sims = [config];
  }
  if (options.simSetting && Object.keys(options.simSetting).length > 0) {
    for (const sim of sims) {
      const merged = kinds.parse({ kind: "sim", name: sim.name, setting: { ...sim.setting, ...options.simSetting } }, `${sim.source} + flags`, home);
      planned[planned.indexOf(sim)] = { ...merged, source: sim.source };
    }
  }
  const seen = new Map<string, string>();
  for (const config of planned) {
    const other = seen.get(config.name);
    if (other !== undefined) throw new GatewayConfigError(config.source, "name", `gateway ${config.name} is also configured by ${other}`);
    seen.set(config.name, config.source);
  }
  return planned;
}

function upstreamConfig(flags: UpstreamFlags, kinds: GatewayKinds, home: string): GatewayConfig {
  const parts = flags.addresses.split(",").map((part) => part.trim());
  if (parts.length !== 2 || !parts[0] || !parts[1]) {
    throw new GatewayConfigError("--upstream", "", "expected REQ_ADDRESS,SUB_ADDRESS, e.g. tcp://127.0.0.1:2014,tcp://127.0.0.1:4102");
  }
  if ((flags.keyFile === undefined) !== (flags.serverKey === undefined)) {
    throw new GatewayConfigError("--upstream", flags.keyFile === undefined ? "--upstream-key" : "--upstream-server-key", "CURVE needs both --upstream-key FILE and --upstream-server-key KEY");
  }
  const setting: GatewaySetting = { req_address: parts[0], sub_address: parts[1] };
  if (flags.keyFile !== undefined) setting["key_file"] = flags.keyFile;
  if (flags.serverKey !== undefined) setting["server_key"] = flags.serverKey;
  return kinds.parse({ kind: "rpc", ...(flags.name !== undefined ? { name: flags.name } : {}), setting }, "--upstream", home);
}
