/**
 * Log and message language. English by default; VeighNa's Chinese strings are one setting away, because
 * scripts and UIs written for VeighNa match on them.
 */
export type Language = "en" | "zh";

let current: Language = "en";

export function setLanguage(language: Language): void {
  if (language !== "en" && language !== "zh") throw new RangeError(`unknown language ${JSON.stringify(language)}`);
  current = language;
}

export function getLanguage(): Language {
  return current;
}

export type Translator<K extends string> = (key: K, params?: Readonly<Record<string, unknown>>) => string;

/** A layer's message catalogue; `{name}` placeholders are filled from `params`. */
export function defineMessages<K extends string>(catalog: { en: Record<K, string>; zh: Record<K, string> }): Translator<K> {
  return (key, params) => {
    const template = catalog[current][key];
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}
