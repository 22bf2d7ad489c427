/**
 * Log and message language. English by default; VeighNa's Chinese strings are one setting away, because
 * scripts and UIs written for VeighNa match on them.
 *
 * The language belongs to a MainEngine (`MainEngineOptions.language`), not to the process: two engines in one
 * process (a relay and its upstream, tests side by side) each speak their own. A layer defines its catalogue once
 * at module level and binds it to its engine's language: `const t = messages.in(mainEngine.language)`.
 */
export type Language = "en" | "zh";

export const LANGUAGES: readonly Language[] = ["en", "zh"];

export const DEFAULT_LANGUAGE: Language = "en";

export function isLanguage(value: unknown): value is Language {
  return value === "en" || value === "zh";
}

/** Checks a language given from outside (options, settings), once at the edge. */
export function parseLanguage(value: unknown): Language {
  if (!isLanguage(value)) throw new RangeError(`unknown language ${JSON.stringify(value)} (en or zh)`);
  return value;
}

/** A catalogue's texts in one language; `{name}` placeholders are filled from `params`. */
export type Translator<K extends string> = (key: K, params?: Readonly<Record<string, unknown>>) => string;

export type Catalog<K extends string> = { readonly en: Readonly<Record<K, string>>; readonly zh: Readonly<Record<K, string>> };

/** A layer's message catalogue in both languages. */
export interface Messages<K extends string> {
  /** The translator for one language: bind it once per engine (or gateway), then call it per line. */
  in(language: Language): Translator<K>;
}

/** The translator type of a catalogue, for a field bound in a constructor: `private readonly t: TranslatorOf<typeof messages>`. */
export type TranslatorOf<M> = M extends Messages<infer K> ? Translator<K> : never;

export function defineMessages<K extends string>(catalog: Catalog<K>): Messages<K> {
  const en = translator(catalog.en);
  const zh = translator(catalog.zh);
  return {
    in(language) {
      // A JavaScript caller (a user rule) may pass anything: fail loudly rather than print "undefined".
      if (language === "en") return en;
      if (language === "zh") return zh;
      throw new RangeError(`unknown language ${JSON.stringify(language)} (en or zh)`);
    },
  };
}

function translator<K extends string>(texts: Readonly<Record<K, string>>): Translator<K> {
  return (key, params) => {
    const template = texts[key];
    if (!params) return template;
    return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
  };
}
