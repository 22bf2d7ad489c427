/** The words of an order, from flags (`VT_SYMBOL@PRICE[xVOLUME]`) or from the prompt (`VT_SYMBOL PRICE VOLUME close fak`). */
import { InvalidArgumentError } from "commander";
import { Offset, OrderType } from "../kernel/index.js";
import { CliError } from "./errors.js";
import { exampleFuture } from "./examples.js";

export const OFFSETS: Readonly<Record<string, Offset>> = {
  open: Offset.OPEN,
  close: Offset.CLOSE,
  closetoday: Offset.CLOSETODAY,
  closeyesterday: Offset.CLOSEYESTERDAY,
};

export const ORDER_TYPES: Readonly<Record<string, OrderType>> = {
  limit: OrderType.LIMIT,
  market: OrderType.MARKET,
  fak: OrderType.FAK,
  fok: OrderType.FOK,
};

/** Where, at what price (null: at market), how many. */
export interface OrderSpec {
  readonly vt_symbol: string;
  readonly price: number | null;
  readonly volume: number;
}

/** How an order is placed: the flags' defaults, or the words typed after it at the prompt. */
export interface OrderStyle {
  readonly offset: Offset;
  readonly type: OrderType;
}

function positive(text: string, what: string, whole: string): number {
  const value = Number(text);
  if (!(value > 0) || !Number.isFinite(value)) throw new CliError(`${what} must be a positive number in "${whole}"`);
  return value;
}

/** `VT_SYMBOL@PRICE[xVOLUME]`, PRICE a number or `market`. */
export function parseOrderSpec(text: string): OrderSpec {
  const match = /^(.+\.[A-Za-z0-9]+)@([0-9.]+|market)(?:x([0-9.]+))?$/.exec(text.trim());
  if (!match) {
    const { vt_symbol, price } = exampleFuture();
    throw new InvalidArgumentError(`expected VT_SYMBOL@PRICE[xVOLUME] (PRICE a number or "market"), e.g. ${vt_symbol}@${price}x1, got "${text}"`);
  }
  try {
    return {
      vt_symbol: match[1]!,
      price: match[2] === "market" ? null : positive(match[2]!, "price", text),
      volume: match[3] === undefined ? 1 : positive(match[3], "volume", text),
    };
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

/** A choice among `table`'s names, for commander. */
export function choice<T>(table: Readonly<Record<string, T>>, what: string): (text: string) => T {
  return (text) => {
    const value = table[text.toLowerCase()];
    if (value === undefined) throw new InvalidArgumentError(`${what} must be one of ${Object.keys(table).join(", ")}`);
    return value;
  };
}

export const PROMPT_ORDER_USAGE = "VT_SYMBOL PRICE|market [VOLUME] [OFFSET] [TYPE]";
export const PROMPT_ORDER_WORDS = `OFFSET: ${Object.keys(OFFSETS).join(" ")} (default open); TYPE: limit fak fok (default limit; PRICE market: a market order)`;

/**
 * `VT_SYMBOL PRICE|market [VOLUME] [OFFSET] [TYPE]` at the prompt; the offset and type words may come in any
 * order and default to `style`.
 */
export function parsePromptOrder(command: string, words: readonly string[], style: OrderStyle): { spec: OrderSpec; style: OrderStyle } {
  const [vt_symbol, priceWord, ...rest] = words;
  const example = exampleFuture();
  const usage = `usage: ${command} ${PROMPT_ORDER_USAGE}, e.g. ${command} ${vt_symbol ?? example.vt_symbol} ${example.price} 1 (${PROMPT_ORDER_WORDS})`;
  if (!vt_symbol || !priceWord) throw new CliError(`${command} needs a contract and a price`, usage);
  const whole = words.join(" ");
  const price = priceWord === "market" ? null : positive(priceWord, "price", whole);
  let volume = 1;
  let { offset, type } = style;
  if (price === null) type = OrderType.MARKET;
  for (const [index, word] of rest.entries()) {
    const lower = word.toLowerCase();
    if (index === 0 && /^[0-9.]+$/.test(word)) volume = positive(word, "volume", whole);
    else if (OFFSETS[lower] !== undefined) offset = OFFSETS[lower];
    else if (ORDER_TYPES[lower] !== undefined) type = ORDER_TYPES[lower];
    else throw new CliError(`${command}: unknown word "${word}"`, usage);
  }
  return { spec: { vt_symbol, price, volume }, style: { offset, type } };
}

/** What `--close` closes: `VT_SYMBOL[@PRICE][xVOLUME]`; no price: at market, no volume: all of it. */
export interface CloseSpec {
  readonly vt_symbol: string;
  readonly price?: number;
  readonly volume?: number;
}

export function parseCloseSpec(text: string): CloseSpec {
  // Exchanges are upper case (SHFE, CFFEX), so a lower-case x after one starts the volume.
  const match = /^(.+\.[A-Z0-9]+)(?:@([0-9.]+|market))?(?:x([0-9.]+))?$/.exec(text.trim());
  if (!match) {
    const { vt_symbol, price } = exampleFuture();
    throw new InvalidArgumentError(`expected VT_SYMBOL[@PRICE][xVOLUME], e.g. ${vt_symbol} or ${vt_symbol}@${price}x1, got "${text}"`);
  }
  try {
    return {
      vt_symbol: match[1]!,
      ...(match[2] !== undefined && match[2] !== "market" ? { price: positive(match[2], "price", text) } : {}),
      ...(match[3] !== undefined ? { volume: positive(match[3], "volume", text) } : {}),
    };
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}
