/**
 * Python-style argument binding for registered functions: positional args and keyword args are matched to
 * named parameters and type-checked once, at the edge, with the TypeError texts Python would give.
 * VeighNa clients send keyword arguments too (`send_order(req=..., gateway_name=...)`).
 */
import { badArguments, type RpcCallError } from "./errors.js";

/** A runtime type test with the name used in error messages. */
export interface ArgType {
  readonly name: string;
  test(value: unknown): boolean;
}

export interface Param {
  readonly name: string;
  readonly type: ArgType;
  /** Optional parameters take `defaultValue` when not given. */
  readonly optional?: boolean;
  readonly defaultValue?: unknown;
}

export const str: ArgType = { name: "str", test: (v) => typeof v === "string" };

export function instanceOf(cls: abstract new (...args: never[]) => unknown): ArgType {
  return { name: cls.name, test: (v) => v instanceof cls };
}

export function nullable(type: ArgType): ArgType {
  return { name: `${type.name} | None`, test: (v) => v === null || v === undefined || type.test(v) };
}

function pythonTypeName(value: unknown): string {
  if (value === null || value === undefined) return "NoneType";
  if (typeof value === "string") return "str";
  if (typeof value === "boolean") return "bool";
  if (typeof value === "number") return Number.isInteger(value) ? "int" : "float";
  if (typeof value === "bigint") return "int";
  if (Array.isArray(value)) return "list";
  if (value instanceof Uint8Array) return "bytes";
  const ctor = (value as object).constructor;
  return ctor && ctor !== Object ? ctor.name : "dict";
}

/**
 * Binds `args`/`kwargs` to `params`; throws RpcCallError(TypeError) like Python would. Every call passes here, so
 * a call that binds allocates only the array it returns; the lists an error message needs are built for errors only.
 */
export function bindArguments(
  fn: string,
  params: readonly Param[],
  args: readonly unknown[],
  kwargs: Readonly<Record<string, unknown>>,
): unknown[] {
  if (args.length > params.length) throw tooManyPositional(fn, params, args.length);
  const bound: unknown[] = args.slice();
  for (const key of Object.keys(kwargs)) {
    const index = indexOfParam(params, key);
    if (index < 0) throw badArguments(`${fn}() got an unexpected keyword argument '${key}'`);
    if (index < args.length) throw badArguments(`${fn}() got multiple values for argument '${key}'`);
    bound[index] = kwargs[key];
  }
  // Every missing argument is named before any type is judged, as Python does.
  for (let i = 0; i < params.length; i++) {
    if (!params[i]!.optional && !(i in bound)) throw missingArguments(fn, params, bound);
  }
  for (let i = 0; i < params.length; i++) {
    const param = params[i]!;
    if (!(i in bound)) {
      bound[i] = param.defaultValue;
      continue;
    }
    if (!param.type.test(bound[i])) {
      throw badArguments(`${fn}() argument '${param.name}' must be ${param.type.name}, not ${pythonTypeName(bound[i])}`);
    }
  }
  bound.length = params.length;
  return bound;
}

function indexOfParam(params: readonly Param[], name: string): number {
  for (let i = 0; i < params.length; i++) if (params[i]!.name === name) return i;
  return -1;
}

function tooManyPositional(fn: string, params: readonly Param[], given: number): RpcCallError {
  const required = params.filter((p) => !p.optional).length;
  const expected = required === params.length ? `${params.length}` : `from ${required} to ${params.length}`;
  return badArguments(`${fn}() takes ${expected} positional argument${params.length === 1 ? "" : "s"} but ${given} were given`);
}

function missingArguments(fn: string, params: readonly Param[], bound: readonly unknown[]): RpcCallError {
  const missing = params.filter((p, i) => !p.optional && !(i in bound)).map((p) => `'${p.name}'`);
  return badArguments(
    `${fn}() missing ${missing.length} required positional argument${missing.length === 1 ? "" : "s"}: ${missing.join(" and ")}`,
  );
}
