/**
 * The kernel classes the decoder rebuilds (data classes and Event), and the shape of their instances.
 */
import { DATA_CLASSES, Event, type DataClassName, type EnumName, type FieldKind } from "../kernel/index.js";
import { HINTS, type Hinted } from "./values.js";

/** Makes an instance whose own keys are a shape's keys, each null until BUILD, and the hints slot. */
type InstanceMaker = new () => object;
/** Stores a state's values into an instance made for the same keys: the values sit at stack[from + 1 + 2i]. */
type StateWriter = (instance: object, stack: readonly unknown[], from: number) => void;

/**
 * What the decoder knows of a kernel class it rebuilds: its enum fields (turned from PyEnum back into plain
 * kernel values after BUILD) and the key sequence of the last state it saw. Instances are created with those
 * keys already in place: an object that gets its properties one computed key at a time turns into a slow
 * dictionary-mode object in V8, and ticks are decoded by the thousand.
 */
export interface ClassShape {
  readonly prototype: object;
  readonly enumFields: ReadonlyArray<readonly [string, EnumName]>;
  keys: readonly string[];
  /** A fast-mode object holding `keys` in order, cloned per instance where no compiled maker exists. */
  template: object | undefined;
  /** The compiled maker and writer for `keys` (see compile), or undefined: the template and keyed stores then. */
  make: InstanceMaker | undefined;
  write: StateWriter | undefined;
}

const shapes = new Map<object, ClassShape>();

/** The shape of a kernel class by its prototype, or undefined for any other prototype. */
export function shapeOf(prototype: object | null): ClassShape | undefined {
  return prototype === null ? undefined : shapes.get(prototype);
}

/** A fast-mode object holding `keys` in order, and the hints slot (JSON.parse builds objects in fast mode). */
function makeTemplate(keys: readonly string[]): object | undefined {
  if (keys.length === 0 || keys.length > 256) return undefined;
  const template = JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:null`).join(",")}}`) as Hinted;
  template[HINTS] = undefined;
  return template;
}

/** From now on the class's instances are made with `keys`, in this order (the shape of the last state seen). */
export function learnShape(shape: ClassShape, keys: readonly string[]): void {
  const known = keySetsByClass.get(shape.prototype) ?? [];
  let keySet = known.find((k) => k.keys.length === keys.length && k.keys.every((key, i) => key === keys[i]));
  if (keySet === undefined) {
    // A class's instances take a few shapes (a tick with `extra` and one without, an older peer's...), and a stream
    // may alternate between them: each is built once, and kept. A peer sending ever more shapes gets a template made
    // anew at each switch, never code compiled for it.
    const room = known.length < KEY_SETS_PER_CLASS;
    keySet = makeKeySet(shape.prototype, keys, room);
    if (room) keySetsByClass.set(shape.prototype, [...known, keySet]);
  }
  shape.keys = keySet.keys;
  shape.template = keySet.template;
  shape.make = keySet.make;
  shape.write = keySet.write;
}

/** What instances with one sequence of keys are made and filled with. */
interface KeySet {
  readonly keys: readonly string[];
  readonly template: object | undefined;
  readonly make: InstanceMaker | undefined;
  readonly write: StateWriter | undefined;
}

const KEY_SETS_PER_CLASS = 4;
const keySetsByClass = new Map<object, readonly KeySet[]>();

function makeKeySet(prototype: object, keys: readonly string[], compiled: boolean): KeySet {
  const template = makeTemplate(keys);
  const functions = compiled && template !== undefined && keys.every(isCompilable) ? compile(prototype, keys) : undefined;
  return { keys: [...keys], template, make: functions?.make, write: functions?.write };
}

// ---- compiled makers and writers --------------------------------------------------------------------------

/**
 * Why compile: a decoder makes instances of every class at one site. Cloning a template there (`{ ...template }`
 * and a prototype swap) and storing each value with a computed key (`instance[key] = value`) go megamorphic as soon
 * as a process decodes a second class, and each then takes V8's generic paths: about a microsecond more on every
 * tick of a subscriber that has also decoded orders, contracts and accounts, against a process that decoded ticks
 * alone. A constructor and a writer per key set, whose property names are literals, keep their own inline caches.
 *
 * Only from keys that are plain identifiers, written as `this.name` / `instance.name`: no text of a key is ever
 * quoted into code, so no key can put anything but a property name into it. Every VeighNa field name qualifies; a
 * state with any other key (or `__proto__`, which as `this.__proto__` would set the prototype) is decoded through
 * the template and keyed stores, as before. So is every state where code generation is off
 * (node --disallow-code-generation-from-strings).
 */
const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

function isCompilable(key: string): boolean {
  return IDENTIFIER.test(key) && key !== "__proto__";
}

function compile(prototype: object, keys: readonly string[]): { make: InstanceMaker; write: StateWriter } | undefined {
  const fields = keys.map((key) => `this.${key} = null;`).join("\n");
  const stores = keys.map((key, i) => `instance.${key} = stack[from + ${2 * i + 1}];`).join("\n");
  try {
    // The hints slot first: the fields are then the last properties added, which a reshape may remove (decoder.ts).
    const make = new Function("hints", `return function DecodedInstance() {\nthis[hints] = undefined;\n${fields}\n};`)(HINTS) as InstanceMaker;
    make.prototype = prototype;
    const write = new Function("instance", "stack", "from", stores) as StateWriter;
    return { make, write };
  } catch {
    return undefined; // code generation from strings is disallowed in this process
  }
}

// ---- the kernel's classes ---------------------------------------------------------------------------------

function addShape(prototype: object, enumFields: ClassShape["enumFields"], keys: string[]): void {
  const shape: ClassShape = { prototype, enumFields, keys, template: undefined, make: undefined, write: undefined };
  learnShape(shape, keys);
  shapes.set(prototype, shape);
}

// The first template of each class: the keys its constructor defines, which are VeighNa's __dict__ order
// (constructing with no fields is harmless: our own constructors only copy and format what they are given).
for (const name of Object.keys(DATA_CLASSES) as DataClassName[]) {
  const cls = DATA_CLASSES[name] as unknown as { new (init: object): object; prototype: object; fieldKinds: Readonly<Record<string, FieldKind>> };
  const enumFields = Object.entries(cls.fieldKinds).filter((entry): entry is [string, EnumName] => entry[1] !== "datetime");
  let keys: string[] = [];
  try {
    keys = Object.keys(new cls({}));
  } catch {
    // A constructor that insists on its fields: the template is learned from the first state decoded instead.
  }
  addShape(cls.prototype, enumFields, keys);
}
addShape(Event.prototype, [], Object.keys(new Event("")));
