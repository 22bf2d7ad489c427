/**
 * The kernel classes the decoder rebuilds (data classes and Event), and the shape of their instances.
 */
import { DATA_CLASSES, Event, type DataClassName, type EnumName, type FieldKind } from "../kernel/index.js";
import { HINTS, type Hinted } from "./values.js";

/**
 * What the decoder knows of a kernel class it rebuilds: its enum fields (turned from PyEnum back into plain
 * kernel values after BUILD) and the key sequence of the last state it saw. Instances are created with those
 * keys already in place, from a template: an object that gets its properties one computed key at a time
 * turns into a slow dictionary-mode object in V8, and ticks are decoded by the thousand.
 */
export interface ClassShape {
  readonly prototype: object;
  readonly enumFields: ReadonlyArray<readonly [string, EnumName]>;
  keys: readonly string[];
  template: object | undefined;
}

const shapes = new Map<object, ClassShape>();

/** The shape of a kernel class by its prototype, or undefined for any other prototype. */
export function shapeOf(prototype: object | null): ClassShape | undefined {
  return prototype === null ? undefined : shapes.get(prototype);
}

/** A fast-mode object holding `keys` in order, and the hints slot (JSON.parse builds objects in fast mode). */
export function makeTemplate(keys: readonly string[]): object | undefined {
  if (keys.length === 0 || keys.length > 256) return undefined;
  const template = JSON.parse(`{${keys.map((k) => `${JSON.stringify(k)}:null`).join(",")}}`) as Hinted;
  template[HINTS] = undefined;
  return template;
}

function addShape(prototype: object, enumFields: ClassShape["enumFields"], keys: string[]): void {
  shapes.set(prototype, { prototype, enumFields, keys, template: makeTemplate(keys) });
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
