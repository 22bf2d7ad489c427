/**
 * `rpcservice client`: a trader's terminal on an RPC server, through RpcGateway (so it sees exactly what a
 * strategy on a client MainEngine sees). Prints the snapshot summary, then the live stream; orders can be placed
 * from flags (for scripts) or typed at the prompt (when stdin is a terminal).
 */
import { createInterface } from "node:readline";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { InvalidArgumentError, type Command } from "commander";
import {
  Direction,
  displayValue,
  EVENT_ACCOUNT,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_TICK,
  EVENT_TRADE,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  SubscribeRequest,
  type AccountData,
  type LogData,
  type OrderData,
  type PositionData,
  type TickData,
  type TradeData,
} from "../kernel/index.js";
import { DEFAULT_NATS_SERVER_NAME } from "../rpc/index.js";
import { DEFAULT_PUB_ADDRESS, DEFAULT_REP_ADDRESS, EVENT_RPC_CONNECTION, RpcGateway, type RpcConnectionStatus } from "../service/index.js";

const GATEWAY = "RPC";

/** `rb2501.SHFE@3500x2`: where, at what price, how many. */
interface OrderSpec {
  vt_symbol: string;
  price: number;
  volume: number;
}

function parseOrderSpec(text: string): OrderSpec {
  const match = /^(.+\.[A-Za-z0-9]+)@([0-9.]+)(?:x([0-9.]+))?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError(`expected VT_SYMBOL@PRICE[xVOLUME], e.g. rb2501.SHFE@3500x1, got "${text}"`);
  const price = Number(match[2]);
  const volume = match[3] === undefined ? 1 : Number(match[3]);
  if (!(price > 0) || !(volume > 0)) throw new InvalidArgumentError(`price and volume must be positive in "${text}"`);
  return { vt_symbol: match[1]!, price, volume };
}

const collect = <T>(parse: (text: string) => T) => (value: string, previous: T[] = []) => [...previous, parse(value)];

interface ClientCommandOptions {
  req: string;
  sub: string;
  transport: "zmtp" | "zeromq";
  subscribe: string[];
  buy: OrderSpec[];
  sell: OrderSpec[];
  cancel: string[];
  ticks: boolean;
  exitAfter?: number;
  prompt: boolean;
  serverKey?: string;
  keyFile?: string;
  nats?: string;
  server?: string;
  natsUser?: string;
  natsPassword?: string;
  natsCreds?: string;
}

export function registerClientCommand(program: Command): void {
  program
    .command("client")
    .description("connect to an RPC server as a trader: snapshot, live events, orders")
    .option("--req <address>", "server request address (VeighNa 主动请求地址)", DEFAULT_REP_ADDRESS)
    .option("--sub <address>", "server publish address (VeighNa 推送订阅地址)", DEFAULT_PUB_ADDRESS)
    .option("--transport <kind>", "zmtp (default) or zeromq", (v) => {
      if (v !== "zmtp" && v !== "zeromq") throw new InvalidArgumentError("must be zmtp or zeromq");
      return v;
    }, "zmtp")
    .option("--server-key <key>", "the server's CURVE public key: turns on CURVE (see `rpcservice keys`)")
    .option("--key-file <file>", "our CURVE secret key file (from `rpcservice keys generate`); default a one-off key")
    .option("--nats <urls>", "trade through a NATS cluster instead, e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223")
    .option("--server <name>", "with --nats: the server's name on the bus (its serve --nats-name)", DEFAULT_NATS_SERVER_NAME)
    .option("--nats-user <user>", "with --nats: NATS user")
    .option("--nats-password <password>", "with --nats: NATS password")
    .option("--nats-creds <file>", "with --nats: NATS credentials file")
    .option("--subscribe <vt_symbol>", "market data to stream (repeatable)", collect((s) => s), [])
    .option("--buy <order>", "buy limit order VT_SYMBOL@PRICE[xVOLUME], opening (repeatable)", collect(parseOrderSpec), [])
    .option("--sell <order>", "sell limit order VT_SYMBOL@PRICE[xVOLUME], opening (repeatable)", collect(parseOrderSpec), [])
    .option("--cancel <vt_orderid>", "cancel an order, e.g. RPC.42 (repeatable)", collect((s) => s), [])
    .option("--no-ticks", "do not print tick lines")
    .option("--exit-after <seconds>", "exit after this many seconds (default: run until Ctrl-C)", (v) => {
      const n = Number(v);
      if (!(n > 0)) throw new InvalidArgumentError("must be a positive number");
      return n;
    })
    .option("--no-prompt", "no interactive prompt even on a terminal")
    .addHelpText(
      "after",
      `
Examples:
  rpcservice client --subscribe rb2501.SHFE
  rpcservice client --buy rb2501.SHFE@3500x1 --exit-after 5
  rpcservice client --cancel RPC.42 --exit-after 2
  rpcservice client --server-key 'rq:rM>}U?@Lns47E1%kR.o@n%FcmmsL/@{H8]yf7' --key-file alice.key

At the prompt (stdin a terminal):
  sub rb2501.SHFE          stream a contract
  buy rb2501.SHFE 3500 1   limit buy (open);  sell ... the same for a sell
  cancel RPC.42            cancel an order
  orders | positions | account | help | quit`,
    )
    .action(async (options: ClientCommandOptions) => {
      await runClient(options);
    });
}

async function runClient(options: ClientCommandOptions): Promise<void> {
  const mainEngine = new MainEngine({ home: mkdtempSync(join(tmpdir(), "rpcservice-client-")) });
  const print = (line: string): void => {
    process.stdout.write(line + "\n");
  };
  const engine = mainEngine.eventEngine;
  mainEngine.addGateway(RpcGateway, GATEWAY);
  let snapshotDone = false;
  let flagsDone = false;

  engine.register(EVENT_LOG, (e) => {
    const log = e.data as LogData;
    print(`log    ${log.gateway_name}: ${log.msg}`);
    if (!snapshotDone && (log.msg === "Trades queried" || log.msg === "成交信息查询成功")) {
      snapshotDone = true;
      printSummary();
      if (!flagsDone) {
        flagsDone = true;
        void runFlags();
      }
    }
  });
  engine.register(EVENT_RPC_CONNECTION, (e) => {
    const status = e.data as RpcConnectionStatus;
    print(`state  ${status.previous} -> ${status.state} (${status.reason})`);
  });
  if (options.ticks) {
    engine.register(EVENT_TICK, (e) => {
      const t = e.data as TickData;
      print(`tick   ${t.vt_symbol} last ${t.last_price} bid ${t.bid_price_1}x${t.bid_volume_1} ask ${t.ask_price_1}x${t.ask_volume_1}`);
    });
  }
  engine.register(EVENT_ORDER, (e) => {
    const o = e.data as OrderData;
    print(`order  ${o.vt_orderid} ${o.vt_symbol} ${displayValue("Direction", o.direction)} ${displayValue("Offset", o.offset)} ${o.volume}@${o.price} traded ${o.traded} ${displayValue("Status", o.status)}`);
  });
  engine.register(EVENT_TRADE, (e) => {
    const t = e.data as TradeData;
    print(`trade  ${t.vt_tradeid} ${t.vt_orderid} ${t.vt_symbol} ${displayValue("Direction", t.direction)} ${t.volume}@${t.price}`);
  });
  engine.register(EVENT_POSITION, (e) => {
    const p = e.data as PositionData;
    print(`pos    ${p.vt_positionid} ${p.volume} (yd ${p.yd_volume}) avg ${p.price} pnl ${p.pnl}`);
  });
  engine.register(EVENT_ACCOUNT, (e) => {
    const a = e.data as AccountData;
    print(`acct   ${a.vt_accountid} balance ${a.balance} available ${a.available}`);
  });

  function printSummary(): void {
    const accounts = mainEngine.getAllAccounts();
    print(
      `snapshot: ${mainEngine.getAllContracts().length} contracts, ${accounts.length} accounts` +
        `${accounts.map((a) => ` (${a.vt_accountid} ${a.balance})`).join("")}, ${mainEngine.getAllPositions().length} positions, ` +
        `${mainEngine.getAllActiveOrders().length} active orders, ${mainEngine.getAllTrades().length} trades`,
    );
  }

  async function subscribe(vt_symbol: string): Promise<void> {
    const contract = mainEngine.getContract(vt_symbol);
    if (!contract) return print(`error  unknown contract ${vt_symbol}`);
    await mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), GATEWAY);
  }

  async function order(direction: Direction, spec: OrderSpec): Promise<void> {
    const contract = mainEngine.getContract(spec.vt_symbol);
    if (!contract) return print(`error  unknown contract ${spec.vt_symbol}`);
    const req = new OrderRequest({
      symbol: contract.symbol, exchange: contract.exchange, direction, type: OrderType.LIMIT,
      volume: spec.volume, price: spec.price, offset: Offset.OPEN,
    });
    const vt_orderid = await mainEngine.sendOrder(req, GATEWAY);
    print(vt_orderid ? `sent   ${vt_orderid}` : `error  order not sent (see the log)`);
  }

  async function cancel(vt_orderid: string): Promise<void> {
    const existing = mainEngine.getOrder(vt_orderid);
    if (!existing) return print(`error  unknown order ${vt_orderid}`);
    await mainEngine.cancelOrder(existing.createCancelRequest(), GATEWAY);
  }

  async function runFlags(): Promise<void> {
    for (const s of options.subscribe) await subscribe(s);
    for (const spec of options.buy) await order(Direction.LONG, spec);
    for (const spec of options.sell) await order(Direction.SHORT, spec);
    for (const id of options.cancel) await cancel(id);
  }

  let closing = false;
  const shutdown = async () => {
    if (closing) return;
    closing = true;
    await mainEngine.close();
    process.exit(0);
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

  if (options.prompt && process.stdin.isTTY) {
    const rl = createInterface({ input: process.stdin, output: process.stdout, prompt: "rpc> " });
    rl.prompt();
    rl.on("line", async (line) => {
      const [command, ...rest] = line.trim().split(/\s+/);
      try {
        switch (command) {
          case "":
            break;
          case "sub":
            for (const s of rest) await subscribe(s);
            break;
          case "buy":
          case "sell":
            await order(command === "buy" ? Direction.LONG : Direction.SHORT, parseOrderSpec(`${rest[0]}@${rest[1]}x${rest[2] ?? "1"}`));
            break;
          case "cancel":
            for (const id of rest) await cancel(id);
            break;
          case "orders":
            for (const o of mainEngine.getAllActiveOrders()) print(`active ${o.vt_orderid} ${o.vt_symbol} ${displayValue("Direction", o.direction)} ${o.volume}@${o.price} ${displayValue("Status", o.status)}`);
            break;
          case "positions":
            for (const p of mainEngine.getAllPositions()) print(`pos    ${p.vt_positionid} ${p.volume}`);
            break;
          case "account":
            for (const a of mainEngine.getAllAccounts()) print(`acct   ${a.vt_accountid} balance ${a.balance} available ${a.available}`);
            break;
          case "quit":
          case "exit":
            await shutdown();
            return;
          default:
            print("commands: sub VT_SYMBOL | buy VT_SYMBOL PRICE [VOLUME] | sell ... | cancel VT_ORDERID | orders | positions | account | quit");
        }
      } catch (error) {
        print(`error  ${(error as Error).message}`);
      }
      rl.prompt();
    });
    rl.on("close", () => void shutdown());
  }
}
