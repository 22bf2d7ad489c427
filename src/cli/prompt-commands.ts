/** The prompt's commands: a table of name, usage and action over the Trader. */
import { Direction } from "../kernel/index.js";
import { CliError, formatFailure } from "./errors.js";
import { PROMPT_ORDER_USAGE, PROMPT_ORDER_WORDS, parsePromptOrder, type OrderStyle } from "./trade-args.js";
import type { Trader } from "./trader.js";

interface PromptCommand {
  readonly usage: string;
  readonly help: string;
  run(words: string[]): Promise<void> | void;
}

function positiveWord(word: string | undefined, what: string, usage: string): number | undefined {
  if (word === undefined) return undefined;
  const value = Number(word);
  if (!(value > 0) || !Number.isFinite(value)) throw new CliError(`${what} must be a positive number, got "${word}"`, `usage: ${usage}`);
  return value;
}

export function promptCommands(trader: Trader, style: OrderStyle, quit: () => Promise<void>): Map<string, PromptCommand> {
  const order = (direction: Direction, name: string) => async (words: string[]) => {
    const { spec, style: chosen } = parsePromptOrder(name, words, style);
    await trader.order(direction, spec, chosen);
  };
  const table: [string, PromptCommand][] = [
    ["sub", { usage: "sub VT_SYMBOL...", help: "stream market data", run: async (words) => {
      if (words.length === 0) throw new CliError("sub needs a contract", "usage: sub VT_SYMBOL...");
      for (const s of words) await trader.subscribe(s);
    } }],
    ["buy", { usage: `buy ${PROMPT_ORDER_USAGE}`, help: "buy (default: open, limit)", run: order(Direction.LONG, "buy") }],
    ["sell", { usage: `sell ${PROMPT_ORDER_USAGE}`, help: "sell (default: open, limit)", run: order(Direction.SHORT, "sell") }],
    ["close", { usage: "close VT_SYMBOL [VOLUME] [PRICE]", help: "close a position (market without PRICE), offsets by exchange", run: async ([symbol, volume, price]) => {
      const usage = "close VT_SYMBOL [VOLUME] [PRICE]";
      if (!symbol) throw new CliError("close needs a contract", `usage: ${usage}`);
      await trader.close(symbol, positiveWord(volume, "volume", usage), positiveWord(price, "price", usage));
    } }],
    ["flatten", { usage: "flatten", help: "close every position at market", run: () => trader.flatten() }],
    ["cancel", { usage: "cancel VT_ORDERID...|all", help: "cancel orders", run: async (words) => {
      if (words.length === 0) throw new CliError("cancel needs an order id", "usage: cancel VT_ORDERID...|all (`orders` lists them)");
      for (const id of words) await trader.cancel(id);
    } }],
    ["orders", { usage: "orders", help: "active orders", run: () => trader.listOrders() }],
    ["trades", { usage: "trades", help: "trades of the day", run: () => trader.listTrades() }],
    ["positions", { usage: "positions", help: "positions with average price and P&L", run: () => trader.listPositions() }],
    ["account", { usage: "account", help: "balance and available funds", run: () => trader.listAccounts() }],
    ["contracts", { usage: "contracts [PATTERN]", help: "contracts by vt_symbol or name (substring or glob: rb*)", run: ([pattern]) => trader.listContracts(pattern) }],
    ["quit", { usage: "quit", help: "disconnect and exit", run: quit }],
  ];
  const commands = new Map(table);
  commands.set("exit", commands.get("quit")!);
  commands.set("help", { usage: "help", help: "this list", run: () => {} });
  return commands;
}

export function helpLines(commands: Map<string, PromptCommand>): string[] {
  const seen = new Set<PromptCommand>();
  const lines: string[] = [];
  for (const command of commands.values()) {
    if (seen.has(command)) continue;
    seen.add(command);
    lines.push(`  ${command.usage.padEnd(50)} ${command.help}`);
  }
  lines.push(`  ${PROMPT_ORDER_WORDS}`);
  return lines;
}

/** Runs one typed line; every failure is one printed `error: …` line, and the prompt goes on. */
export async function runPromptLine(line: string, commands: Map<string, PromptCommand>, print: (line: string) => void): Promise<void> {
  const [name, ...words] = line.trim().split(/\s+/);
  if (!name) return;
  const command = commands.get(name.toLowerCase());
  try {
    if (command === undefined) throw new CliError(`unknown command: ${name}`, "`help` lists the commands");
    if (name.toLowerCase() === "help") return void helpLines(commands).forEach((l) => void print(l));
    await command.run(words);
  } catch (error) {
    print(formatFailure(error));
  }
}
