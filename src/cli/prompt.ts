/**
 * The client's prompt (node:readline). Lines streamed while the user types are printed above the prompt, which is
 * then drawn again with the half-typed input intact. Commands run one at a time, in the order typed; input that
 * is not a terminal (a script piped in) is read the same way, without the drawing.
 */
import { createInterface, clearLine, cursorTo, type Interface } from "node:readline";
import type { Readable, Writable } from "node:stream";

export const PROMPT = "rpc> ";

export class Prompt {
  private readonly rl: Interface;
  private readonly output: Writable;
  private readonly terminal: boolean;
  private queue: Promise<void> = Promise.resolve();

  /** `run` handles one line; `ended` is called once the input ends and every command before it has run. */
  constructor(options: { input: Readable; output: Writable; terminal: boolean; run: (line: string) => Promise<void>; ended: () => void }) {
    this.output = options.output;
    this.terminal = options.terminal;
    this.rl = createInterface({ input: options.input, output: options.output, prompt: PROMPT, terminal: options.terminal });
    this.rl.on("line", (line) => {
      this.queue = this.queue.then(() => options.run(line)).then(() => this.redraw());
    });
    this.rl.on("close", () => void this.queue.then(options.ended));
    // On a terminal readline takes Ctrl-C from the process: it ends the session, as it would without a prompt.
    this.rl.on("SIGINT", () => this.rl.close());
    this.redraw();
  }

  /** Prints a line above the prompt. */
  print(line: string): void {
    if (!this.terminal) {
      this.output.write(line + "\n");
      return;
    }
    clearLine(this.output, 0);
    cursorTo(this.output, 0);
    this.output.write(line + "\n");
    this.rl.prompt(true);
  }

  close(): void {
    this.rl.close();
  }

  private redraw(): void {
    if (this.terminal) this.rl.prompt(true);
  }
}
