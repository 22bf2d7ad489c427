/**
 * `rpcservice client`: a trader's terminal on an RPC server, through RpcGateway (so it sees exactly what a
 * strategy on a client MainEngine sees). Prints the snapshot summary, then the live stream; orders can be placed
 * from flags (for scripts) or typed at the prompt (a terminal, or piped in with --prompt).
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { DEFAULT_LANGUAGE, Direction, EVENT_LOG, LANGUAGES, MainEngine, Offset, OrderType, type Language } from "../kernel/index.js";
import { DEFAULT_NATS_SERVER_NAME } from "../rpc/index.js";
import { DEFAULT_PUB_ADDRESS, DEFAULT_REP_ADDRESS, EVENT_RPC_CONNECTION, RpcGateway } from "../service/index.js";
import { parseEndpoint } from "../zmtp/index.js";
import { printStream } from "./client-stream.js";
import { ConnectionReport } from "./connection-report.js";
import { CliError, addressHint, formatFailure } from "./errors.js";
import { exampleFuture } from "./examples.js";
import { Prompt } from "./prompt.js";
import { helpLines, promptCommands, runPromptLine } from "./prompt-commands.js";
import { OFFSETS, ORDER_TYPES, choice, parseCloseSpec, parseOrderSpec, type CloseSpec, type OrderSpec } from "./trade-args.js";
import { Trader } from "./trader.js";

const GATEWAY = "RPC";

const collect = <T>(parse: (text: string) => T) => (value: string, previous: T[] = []) => [...previous, parse(value)];

interface ClientCommandOptions {
  req: string;
  sub: string;
  transport: "zmtp" | "zeromq";
  subscribe: string[];
  buy: OrderSpec[];
  sell: OrderSpec[];
  offset: Offset;
  type: OrderType;
  close: CloseSpec[];
  flatten?: boolean;
  cancel: string[];
  ticks: boolean;
  exitAfter?: number;
  /** undefined: a prompt when stdin is a terminal. */
  prompt?: boolean;
  serverKey?: string;
  keyFile?: string;
  language: Language;
  nats?: string;
  server?: string;
  natsUser?: string;
  natsPassword?: string;
  natsCreds?: string;
}

export function registerClientCommand(program: Command): void {
  const { vt_symbol: symbol, price } = exampleFuture();
  program
    .command("client")
    .description("connect to an RPC server as a trader: snapshot, live events, orders")
    .option("--req <address>", "server request address (VeighNa 主动请求地址)", DEFAULT_REP_ADDRESS)
    .option("--sub <address>", "server publish address (VeighNa 推送订阅地址)", DEFAULT_PUB_ADDRESS)
    .addOption(new Option("--transport <kind>", "ZeroMQ implementation").choices(["zmtp", "zeromq"]).default("zmtp"))
    .option("--server-key <key>", "the server's CURVE public key: turns on CURVE (see `rpcservice keys`)")
    .option("--key-file <file>", "our CURVE secret key file (from `rpcservice keys generate`); default a one-off key")
    .option("--nats <urls>", "trade through a NATS cluster instead, e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223")
    .option("--server <name>", "with --nats: the server's name on the bus (its serve --nats-name)", DEFAULT_NATS_SERVER_NAME)
    .option("--nats-user <user>", "with --nats: NATS user")
    .option("--nats-password <password>", "with --nats: NATS password")
    .option("--nats-creds <file>", "with --nats: NATS credentials file")
    .option("--subscribe <vt_symbol>", "market data to stream (repeatable)", collect((s) => s), [])
    .option("--buy <order>", "buy VT_SYMBOL@PRICE[xVOLUME], PRICE a number or market (repeatable)", collect(parseOrderSpec), [])
    .option("--sell <order>", "sell VT_SYMBOL@PRICE[xVOLUME] (repeatable)", collect(parseOrderSpec), [])
    .option("--offset <offset>", `offset of --buy/--sell: ${Object.keys(OFFSETS).join(", ")}`, choice(OFFSETS, "--offset"), Offset.OPEN)
    .option("--type <type>", `order type of --buy/--sell: ${Object.keys(ORDER_TYPES).join(", ")}`, choice(ORDER_TYPES, "--type"), OrderType.LIMIT)
    .option("--close <position>", "close VT_SYMBOL[@PRICE][xVOLUME]: all of it at market by default, offsets by exchange (repeatable)", collect(parseCloseSpec), [])
    .option("--flatten", "close every position at market")
    .option("--cancel <vt_orderid>", "cancel an order, e.g. RPC.42, or all (repeatable)", collect((s) => s), [])
    .option("--no-ticks", "no tick lines, and position/account lines only when an order or trade changed them")
    .option("--exit-after <seconds>", "exit after this many seconds, non-zero if never connected (default: run until Ctrl-C)", (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError("must be a positive number");
      return n;
    })
    .option("--prompt", "read prompt commands from stdin even when it is not a terminal (scripts)")
    .option("--no-prompt", "no interactive prompt even on a terminal")
    .addOption(new Option("--language <lang>", "log language (zh: VeighNa's Chinese strings)").choices(LANGUAGES).default(DEFAULT_LANGUAGE))
    .addHelpText(
      "after",
      `
Examples (${symbol} is today's front rebar month; \`contracts\` at the prompt lists them all):
  rpcservice client --subscribe ${symbol}
  rpcservice client --buy ${symbol}@${price}x1 --exit-after 5
  rpcservice client --sell ${symbol}@marketx1 --offset closetoday --exit-after 5
  rpcservice client --close ${symbol} --exit-after 5        close all of it at market (SHFE: today and yesterday apart)
  rpcservice client --cancel all --exit-after 5
  rpcservice client --server-key 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7' --key-file alice.key

At the prompt (stdin a terminal, or --prompt):
  sub ${symbol}            stream a contract
  buy ${symbol} ${price} 1      limit buy, opening; sell ... the same for a sell
  sell ${symbol} market 1 close fak
  close ${symbol} [VOLUME] [PRICE]
  flatten | cancel RPC.42 | cancel all
  orders | trades | positions | account | contracts rb* | help | quit`,
    )
    .action(async (options: ClientCommandOptions) => {
      await runClient(options);
    });
}

/** A bad address is a usage error here, before anything connects. */
function checkAddress(flag: string, address: string): void {
  if (/^wss?:\/\//.test(address)) {
    if (!URL.canParse(address)) throw new CliError(`${flag} ${address} is not a URL`);
    return;
  }
  try {
    parseEndpoint(address);
  } catch (error) {
    const reason = (error as Error).message;
    throw new CliError(`${flag} ${address} is not an address: ${reason}`, addressHint(reason));
  }
}

async function runClient(options: ClientCommandOptions): Promise<void> {
  checkAddress("--req", options.req);
  if (!/^wss?:\/\//.test(options.req)) checkAddress("--sub", options.sub);
  const home = mkdtempSync(join(tmpdir(), "rpcservice-client-"));
  const mainEngine = new MainEngine({ home, language: options.language });
  let prompt: Prompt | null = null;
  const print = (line: string): void => {
    if (prompt) prompt.print(line);
    else process.stdout.write(line + "\n");
  };
  const engine = mainEngine.eventEngine;
  mainEngine.addGateway(RpcGateway, GATEWAY);
  const trader = new Trader(mainEngine, GATEWAY, print);
  const report = new ConnectionReport(options.req, print);
  let snapshotDone = false;

  printStream(engine, print, { ticks: options.ticks, language: mainEngine.language });
  engine.register(EVENT_RPC_CONNECTION, (e) => report.onStatus(e.data));
  engine.register(EVENT_LOG, (e) => {
    if (snapshotDone || !report.isSnapshotDone(e.data)) return;
    snapshotDone = true;
    printSummary();
    // The prompt opens once the flags' orders are sent: typed or piped commands then see the snapshot.
    void runFlags().then(() => {
      if (options.prompt ?? process.stdin.isTTY) startPrompt();
    });
  });

  function printSummary(): void {
    const accounts = mainEngine.getAllAccounts();
    print(
      `snapshot: ${mainEngine.getAllContracts().length} contracts, ${accounts.length} accounts` +
        `${accounts.map((a) => ` (${a.vt_accountid} ${a.balance})`).join("")}, ${mainEngine.getAllPositions().filter((p) => p.volume > 0).length} positions, ` +
        `${mainEngine.getAllActiveOrders().length} active orders, ${mainEngine.getAllTrades().length} trades`,
    );
  }

  /** Each flag's action in turn; a failed one is reported, the rest still run, and the exit code says so. */
  async function runFlags(): Promise<void> {
    const style = { offset: options.offset, type: options.type };
    const steps: (() => Promise<void>)[] = [
      ...options.subscribe.map((s) => () => trader.subscribe(s)),
      ...options.buy.map((spec) => () => trader.order(Direction.LONG, spec, style)),
      ...options.sell.map((spec) => () => trader.order(Direction.SHORT, spec, style)),
      ...options.close.map((c) => () => trader.close(c.vt_symbol, c.volume, c.price)),
      ...(options.flatten ? [() => trader.flatten()] : []),
      ...options.cancel.map((id) => () => trader.cancel(id)),
    ];
    for (const step of steps) {
      try {
        await step();
      } catch (error) {
        print(formatFailure(error));
        process.exitCode = 1;
      }
    }
  }

  function startPrompt(): void {
    if (closing) return;
    const commands = promptCommands(trader, { offset: options.offset, type: options.type }, shutdown);
    if (process.stdin.isTTY) for (const line of ["commands:", ...helpLines(commands)]) print(line);
    prompt = new Prompt({
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY === true && process.stdout.isTTY === true,
      run: (line) => runPromptLine(line, commands, print),
      ended: () => void shutdown(),
    });
  }

  let closing = false;
  const shutdown = async (): Promise<void> => {
    if (closing) return;
    closing = true;
    report.close();
    prompt?.close();
    prompt = null;
    await mainEngine.close();
    rmSync(home, { recursive: true, force: true });
    if (!report.everConnected) {
      process.stderr.write(formatFailure(report.neverConnected()) + "\n");
      process.exit(1);
    }
    process.exit(process.exitCode ?? 0);
  };
  process.once("SIGINT", () => void shutdown());
  process.once("SIGTERM", () => void shutdown());
  if (options.exitAfter) setTimeout(() => void shutdown(), options.exitAfter * 1000);

  await mainEngine.connect(
    {
      // A NATS bus replaces both ZeroMQ addresses: the gateway picks its client by the address scheme.
      req_address: options.nats ?? options.req,
      sub_address: options.sub,
      transport: options.transport,
      ...(options.nats ? { server_name: options.server ?? DEFAULT_NATS_SERVER_NAME } : {}),
      ...(options.natsUser ? { nats_user: options.natsUser } : {}),
      ...(options.natsPassword ? { nats_password: options.natsPassword } : {}),
      ...(options.natsCreds ? { nats_creds: options.natsCreds } : {}),
      ...(options.serverKey ? { server_key: options.serverKey } : {}),
      ...(options.keyFile ? { key_file: options.keyFile } : {}),
    },
    GATEWAY,
  );
}
