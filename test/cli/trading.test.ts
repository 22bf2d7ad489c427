/** Trading from the command line against a real server: offsets by exchange, order types, listings, the prompt. */
import { after, before, test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { exampleFuture } from "../../src/cli/examples.js";
import { CliProcess, MAIN, cli, serve, tempHome, type Served } from "./helpers.js";

const temp = tempHome("rpcservice-trading-");
let served: Served;
/** Today's front rebar month: SHFE, where closing today's volume needs CLOSETODAY. */
const symbol = exampleFuture().vt_symbol;
const escaped = symbol.replace(/\./g, "\\.");

before(async () => {
  served = await serve(temp.dir, ["--ticks-per-second", "20"]);
});

after(async () => {
  await served?.stop();
  temp.remove();
});

/** A client reading prompt commands from a pipe, as a script would type them. */
class Session {
  readonly run: CliProcess;
  private mark = 0;

  constructor(extra: string[] = []) {
    this.run = new CliProcess(["client", ...served.clientArgs, "--prompt", ...extra]);
  }

  async ready(): Promise<void> {
    await this.run.waitFor(/snapshot: \d+ contracts/);
  }

  /** Types a line; resolves with the first match of `pattern` in the output that follows it. */
  async type(line: string, pattern: RegExp): Promise<RegExpMatchArray> {
    this.mark = this.run.output.length;
    this.run.child.stdin.write(line + "\n");
    return this.since(pattern);
  }

  /** Waits for `pattern` in the output since the last typed line. */
  async since(pattern: RegExp, ms = 20_000): Promise<RegExpMatchArray> {
    const deadline = Date.now() + ms;
    for (;;) {
      const match = this.run.output.slice(this.mark).match(pattern);
      if (match) return match;
      if (Date.now() > deadline) throw new Error(`no ${pattern} after the last command:\n${this.run.output.slice(this.mark)}`);
      if (this.run.child.exitCode !== null) throw new Error(`client exited:\n${this.run.output}`);
      await new Promise((r) => setTimeout(r, 50));
    }
  }

  /** Ends the input: the client finishes and exits. */
  async end(): Promise<number | null> {
    this.run.child.stdin.end();
    try {
      return await this.run.exited();
    } finally {
      this.run.kill();
    }
  }
}

test("the prompt buys at market, lists the position with average price and P&L and the trade, and closes with the exchange's offset", async () => {
  const session = new Session(["--no-ticks"]);
  try {
    await session.ready();
    const [, price] = await session.type(`buy ${symbol} market 2`, new RegExp(`trade +\\S+ \\S+ ${escaped} Long Open 2@(\\d+(?:\\.\\d+)?)`));
    await session.since(new RegExp(`pos +${escaped} Long 2 `));
    await session.type("positions", new RegExp(`pos +${escaped} Long 2 \\(yd 0, frozen 0\\) avg ${price} pnl -?\\d`));
    await session.type("trades", new RegExp(`trade +\\S+ \\S+ ${escaped} Long Open 2@${price}`));
    // A FAK above the market does not fill: what it does not fill is cancelled at once.
    const high = Math.round(Number(price) * 1.03);
    await session.type(`sell ${symbol} ${high} 1 closetoday fak`, new RegExp(`order +\\S+ ${escaped} Short Close Today FAK 1@${high} traded 0 Cancelled`));
    // On SHFE a plain "close" would take yesterday's volume: the close command picks CLOSETODAY for today's.
    await session.type(`close ${symbol} 1`, new RegExp(`sent +\\S+ ${escaped} Short Close Today Market 1@market`));
    await session.since(new RegExp(`pos +${escaped} Long 1 `));
    await session.type(`contracts ${symbol.slice(0, 2)}*`, new RegExp(`${escaped} +\\S+ +Futures +size 10 tick 1`));
    assert.equal(await session.end(), 0);
  } finally {
    session.run.kill();
  }
});

test("under REDUCING a new buy is refused but flatten closes what is held", async () => {
  const session = new Session(["--no-ticks"]);
  try {
    await session.ready();
    await session.type(`buy ${symbol} market 1`, new RegExp(`pos +${escaped} Long [1-9]`));
    assert.equal((await cli(["risk", "state", "REDUCING", "--home", served.home])).code, 0);
    await session.type(`buy ${symbol} market 1`, /error: order .* not sent: refused/);
    await session.type("flatten", new RegExp(`sent +\\S+ ${escaped} Short Close Today Market \\d+@market`));
    await session.since(new RegExp(`pos +${escaped} Long 0 `));
    await session.type("positions", /no positions/);
    assert.equal(await session.end(), 0);
  } finally {
    await cli(["risk", "state", "ACTIVE", "--home", served.home]);
    session.run.kill();
  }
});

test("the prompt reports mistakes in one line and goes on: unknown command, missing price, missing order id", async () => {
  const session = new Session(["--no-ticks"]);
  try {
    await session.ready();
    await session.type("foo", /error: unknown command: foo; `help` lists the commands/);
    await session.type(`sell ${symbol}`, new RegExp(`error: sell needs a contract and a price; usage: sell VT_SYMBOL PRICE\\|market .*e\\.g\\. sell ${escaped} \\d+`));
    await session.type("cancel", /error: cancel needs an order id/);
    await session.type("cancel RPC.424242", /error: unknown order RPC\.424242/);
    await session.type("close nothing.SHFE", /error: unknown contract nothing\.SHFE; `contracts \[PATTERN\]`/);
    await session.type("help", /flatten +close every position at market/);
    assert.equal(await session.end(), 0);
  } finally {
    session.run.kill();
  }
});

test("flags: --buy at market with --offset, --type fok below the market is cancelled, --close picks CLOSETODAY on SHFE", async () => {
  // The snapshot replays earlier trades: wait for this order's own id.
  const filled = async (args: string[], sent: RegExp, trade: (id: string) => RegExp): Promise<RegExpMatchArray> => {
    const run = new CliProcess(["client", ...served.clientArgs, "--no-ticks", ...args]);
    try {
      const [, id] = await run.waitFor(sent);
      const match = await run.waitFor(trade(id!.replace(/\./g, "\\.")));
      run.kill("SIGTERM");
      assert.equal(await run.exited(), 0, run.output);
      return match;
    } finally {
      run.kill();
    }
  };
  const [, price] = await filled(
    ["--buy", `${symbol}@marketx1`, "--offset", "open", "--type", "limit"],
    new RegExp(`sent +(\\S+) ${escaped} Long Open Market 1@market`),
    (id) => new RegExp(`trade +\\S+ ${id} ${escaped} Long Open 1@(\\d+)`),
  );
  const low = Math.round(Number(price) * 0.97);
  await filled(
    ["--buy", `${symbol}@${low}x1`, "--type", "fok"],
    new RegExp(`sent +(\\S+) ${escaped} Long Open FOK 1@${low}`),
    (id) => new RegExp(`order +${id} ${escaped} Long Open FOK 1@${low} traded 0 Cancelled`),
  );
  await filled(
    ["--close", `${symbol}x1`],
    new RegExp(`sent +(\\S+) ${escaped} Short Close Today Market 1@market`),
    (id) => new RegExp(`trade +\\S+ ${id} ${escaped} Short Close Today 1@`),
  );
});

test("a flag order that cannot be sent makes the client exit non-zero", async () => {
  const result = await cli(["client", ...served.clientArgs, "--no-ticks", "--close", "nothing.SHFE", "--exit-after", "30", "--prompt"], { input: "" });
  assert.equal(result.code, 1, result.stdout + result.stderr);
  assert.match(result.stdout, /error: unknown contract nothing\.SHFE/);
});

test("--no-ticks prints no mark-to-market position or account lines while ticks move them", async () => {
  const session = new Session(["--no-ticks"]);
  const loud = new CliProcess(["client", ...served.clientArgs, "--subscribe", symbol]);
  try {
    await session.ready();
    // The buy's own lines (its trade, then the position and account it changed) are in before the quiet part starts.
    const [, id] = await session.type(`buy ${symbol} market 1`, /sent +(\S+)/);
    await session.since(new RegExp(`trade +\\S+ ${id!.replace(/\./g, "\\.")} [\\s\\S]*pos +${escaped} [\\s\\S]*acct `));
    const quietFrom = session.run.stdout.length;
    await session.type(`sub ${symbol}`, new RegExp(`subscribed ${escaped}`));
    // The same stream with ticks on: every tick marks the position and the account to market.
    await loud.waitFor(/snapshot:/);
    const seen = (pattern: RegExp) => loud.stdout.slice(loud.stdout.indexOf("snapshot:")).match(pattern)?.length ?? 0;
    const marks = new RegExp(`^pos +${escaped} Long`, "gm");
    for (let i = 0; i < 400 && (seen(marks) < 6 || seen(/^acct /gm) < 6); i++) await new Promise((r) => setTimeout(r, 50));
    assert.ok(seen(marks) >= 6 && seen(/^acct /gm) >= 6, `ticks should move the position and account:\n${loud.stdout.slice(-2000)}`);
    assert.doesNotMatch(session.run.stdout.slice(quietFrom), /^(pos|acct|tick) /m);
    await session.type("flatten", /acct +\S+ balance/);
    assert.equal(await session.end(), 0);
  } finally {
    session.run.kill();
    loud.kill();
  }
});

test("client --language zh: VeighNa's Chinese log strings and values, and the snapshot is still recognised", async () => {
  const session = new Session(["--no-ticks", "--language", "zh"]);
  try {
    await session.ready();
    assert.match(session.run.stdout, /成交信息查询成功/);
    await session.type(`buy ${symbol} market 1`, new RegExp(`trade +\\S+ \\S+ ${escaped} 多 开 1@`));
    await session.type("flatten", new RegExp(`sent +\\S+ ${escaped} 空 平今 市价 \\d+@market`));
    assert.equal(await session.end(), 0);
  } finally {
    session.run.kill();
  }
});

test("on a terminal the prompt is drawn after the snapshot, runs typed commands, and Ctrl-C ends the session", { skip: !hasScript() && "no `script` (util-linux) for a pseudo-terminal" }, async () => {
  // `script` runs the client on a pseudo-terminal: stdin and stdout are a TTY, as for a user.
  const command = [process.execPath, MAIN, "client", ...served.clientArgs, "--no-ticks"].map((word) => `'${word}'`).join(" ");
  const terminal = spawn("script", ["-qfec", command, "/dev/null"], { env: { ...process.env, TERM: "dumb" } });
  let screen = "";
  terminal.stdout.on("data", (chunk: Buffer) => (screen += chunk.toString()));
  const waitScreen = async (pattern: RegExp, from: number): Promise<void> => {
    for (let i = 0; i < 400 && !pattern.test(screen.slice(from)); i++) await new Promise((r) => setTimeout(r, 50));
    assert.match(screen.slice(from), pattern);
  };
  try {
    await waitScreen(/commands:[\s\S]*rpc> /, 0);
    const mark = screen.length;
    terminal.stdin.write("trades\r");
    await waitScreen(/trade +\S+|no trades/, mark);
    const exited = new Promise<number | null>((resolve) => terminal.once("exit", (code) => resolve(code)));
    terminal.stdin.write("\x03");
    assert.equal(await exited, 0, screen);
  } finally {
    terminal.kill("SIGKILL");
  }
});

function hasScript(): boolean {
  return spawnSync("script", ["--version"]).status === 0;
}
