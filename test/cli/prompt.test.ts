/** The prompt on a terminal: a streamed line goes above it, and the half-typed input is drawn again below. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { PassThrough, Writable } from "node:stream";
import { PROMPT, Prompt } from "../../src/cli/prompt.js";

class Screen extends Writable {
  text = "";
  readonly columns = 200;
  readonly isTTY = true;

  override _write(chunk: Buffer, _encoding: BufferEncoding, done: () => void): void {
    this.text += chunk.toString();
    done();
  }
}

/**
 * The screen as a terminal shows it: a tiny emulator of what readline writes (carriage return, cursor to column,
 * erase line); other escape sequences are ignored.
 */
function visibleLines(text: string): string[] {
  const lines: string[] = [];
  let line = "";
  let col = 0;
  const put = (ch: string) => {
    line = line.slice(0, col).padEnd(col) + ch + line.slice(col + 1);
    col++;
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (ch === "\x1b") {
      const match = /^\x1b\[([0-9;]*)([A-Za-z])/.exec(text.slice(i));
      if (!match) continue;
      i += match[0].length - 1;
      if (match[2] === "G") col = Math.max(0, Number(match[1] || "1") - 1);
      else if (match[2] === "K" && match[1] === "2") line = "";
      else if (match[2] === "K") line = line.slice(0, col);
    } else if (ch === "\r") col = 0;
    else if (ch === "\n") {
      lines.push(line);
      line = "";
      col = 0;
    } else put(ch);
  }
  lines.push(line);
  return lines;
}

test("a line streamed while the user types is printed above the prompt, which keeps the typed text", async () => {
  const input = new PassThrough();
  const screen = new Screen();
  const lines: string[] = [];
  const prompt = new Prompt({ input, output: screen, terminal: true, run: async (line) => void lines.push(line), ended: () => {} });
  try {
    input.write(`buy rb`);
    await new Promise((r) => setImmediate(r));
    prompt.print("tick   rb2701.SHFE last 3300");
    const shown = visibleLines(screen.text);
    assert.equal(shown.at(-2), "tick   rb2701.SHFE last 3300");
    assert.equal(shown.at(-1)?.trimEnd(), `${PROMPT}buy rb`);
    input.write(" 3300\r");
    await new Promise((r) => setImmediate(r));
    assert.deepEqual(lines, ["buy rb 3300"]);
  } finally {
    prompt.close();
  }
});

test("commands run one at a time in the order typed, and the end of input comes after the last", async () => {
  const input = new PassThrough();
  const order: string[] = [];
  let ended!: () => void;
  const done = new Promise<void>((resolve) => (ended = resolve));
  new Prompt({
    input,
    output: new Screen(),
    terminal: false,
    run: async (line) => {
      order.push(`start ${line}`);
      await new Promise((r) => setTimeout(r, line === "slow" ? 20 : 0));
      order.push(`end ${line}`);
    },
    ended: () => {
      order.push("ended");
      ended();
    },
  });
  input.end("slow\nfast\n");
  await done;
  assert.deepEqual(order, ["start slow", "end slow", "start fast", "end fast", "ended"]);
});
