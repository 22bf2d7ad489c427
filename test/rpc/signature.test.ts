/**
 * Argument binding: positional and keyword arguments matched to a function's parameters, with the TypeError texts
 * Python gives, and the bound array the function's own (a handler may change it without touching the decoded call).
 */
import { test } from "node:test";
import assert from "node:assert/strict";
import { RpcCallError, bindArguments, nullable, str, type ArgType, type Param } from "../../src/rpc/index.js";

const int: ArgType = { name: "int", test: (v) => typeof v === "number" && Number.isInteger(v) };
const params: readonly Param[] = [
  { name: "symbol", type: str },
  { name: "volume", type: int },
  { name: "reference", type: nullable(str), optional: true, defaultValue: "" },
];

/** The TypeError text bindArguments throws for these arguments. */
function refusal(args: readonly unknown[], kwargs: Record<string, unknown> = {}, with_: readonly Param[] = params): string {
  try {
    bindArguments("send", with_, args, kwargs);
  } catch (error) {
    assert.ok(error instanceof RpcCallError);
    assert.equal(error.code, "ERR_RPC_BAD_ARGUMENTS");
    assert.equal(error.pythonType, "TypeError");
    return error.message;
  }
  assert.fail("the arguments were accepted");
}

test("positional and keyword arguments bind in parameter order, and an optional one left out takes its default", () => {
  assert.deepEqual(bindArguments("send", params, ["rb2501", 3, "a"], {}), ["rb2501", 3, "a"]);
  assert.deepEqual(bindArguments("send", params, ["rb2501"], { volume: 3 }), ["rb2501", 3, ""]);
  assert.deepEqual(bindArguments("send", params, [], { reference: null, volume: 1, symbol: "ag" }), ["ag", 1, null]);
});

test("the bound array is the function's own: changing it leaves the decoded arguments as they were", () => {
  const args = ["rb2501", 3];
  const bound = bindArguments("send", params, args, {});
  bound[0] = "changed";
  assert.deepEqual(args, ["rb2501", 3]);
});

test("too many positional arguments name the count Python would, with or without optional parameters", () => {
  assert.equal(refusal(["a", 1, "r", 4]), "send() takes from 2 to 3 positional arguments but 4 were given");
  assert.equal(refusal(["a", "b"], {}, [{ name: "symbol", type: str }]), "send() takes 1 positional argument but 2 were given");
});

test("an unknown keyword, or a keyword for a parameter already given by position, is refused by name", () => {
  assert.equal(refusal(["a", 1], { price: 2 }), "send() got an unexpected keyword argument 'price'");
  assert.equal(refusal(["a", 1], { volume: 2 }), "send() got multiple values for argument 'volume'");
});

test("every missing required argument is named, before any argument's type is judged", () => {
  assert.equal(refusal([]), "send() missing 2 required positional arguments: 'symbol' and 'volume'");
  assert.equal(refusal([], { volume: 1 }), "send() missing 1 required positional argument: 'symbol'");
  // 'symbol' has the wrong type, but the missing 'volume' is what Python reports.
  assert.equal(refusal([42]), "send() missing 1 required positional argument: 'volume'");
});

test("an argument of the wrong type is refused with its Python type name", () => {
  assert.equal(refusal([42, 1]), "send() argument 'symbol' must be str, not int");
  assert.equal(refusal(["a", 1.5]), "send() argument 'volume' must be int, not float");
  assert.equal(refusal(["a", 1], { reference: 7 }), "send() argument 'reference' must be str | None, not int");
});

test("keyword arguments are the dict's own keys: an inherited property is not an argument", () => {
  const kwargs = Object.create({ price: 2 }) as Record<string, unknown>;
  kwargs["volume"] = 1;
  assert.deepEqual(bindArguments("send", params, ["a"], kwargs), ["a", 1, ""]);
});
