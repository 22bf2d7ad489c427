/**
 * The chaos harness: one real server process (`rpcservice serve`), three clients (our RpcGateway over ZeroMQ, an
 * RpcGateway over ws://, the Python stand-in VeighNa client), a scripted trader, and a seeded schedule of faults:
 * `rpc stop` for a while then start, kill -9 + restart on the same home and addresses, a TCP proxy (between the
 * TypeScript clients and the server) that stalls or drops connections. After each fault heals, within a bound,
 * every client must hold the server's orders, trades, positions and accounts, hear ticks of every subscribed
 * symbol, and be synced on the server's current epoch; every order a client was told "sent" is on the server.
 *
 * `runVeighNaChaos` does the kill -9 + restart (within a second) part against the Python stand-in VeighNa server
 * as the upstream of RpcGateway.
 *
 * Used by chaos.test.ts (a fixed seed, short) and chaos-run.ts (`npm run chaos`: a random seed, longer).
 */
import { spawn, type ChildProcess } from "node:child_process";
import { writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { createInterface } from "node:readline";
import {
  Direction,
  EVENT_TICK,
  Exchange,
  MainEngine,
  Offset,
  OrderRequest,
  OrderType,
  Product,
  SubscribeRequest,
  type AccountData,
  type ContractData,
  type OrderData,
  type PositionData,
  type TradeData,
} from "../../src/kernel/index.js";
import { HELLO_FUNCTION, RpcClient, WsRpcClient, type HelloInfo } from "../../src/rpc/index.js";
import { RpcGateway } from "../../src/service/index.js";
import { repoRoot } from "../fixtures/paths.js";
import { prng } from "../codec/helpers.js";
import { PYTHON, killHard, sleep, startVeighNaServer, tempDir } from "./helpers.js";
import { TcpProxy } from "./tcp-proxy.js";

const CLI = join(repoRoot, "dist", "src", "cli", "main.js");
const PYTHON_DIR = join(repoRoot, "test", "service", "python");
const PYTHON_PATH = join(repoRoot, "test", "python");

export type FaultKind = "rpc-stop" | "kill" | "stall" | "drop";

export interface ChaosOptions {
  seed: number;
  /** How many faults; the first four are one of each kind, in a seeded order. */
  faults: number;
  /** Longest `rpc stop` and proxy stall, ms (the issue: 0.2 to 8 s). */
  maxOutage: number;
  /** How long a client may take to agree with the server after a fault heals, ms. */
  healBound: number;
  /** Include the Python stand-in client (needs python3-zmq). */
  python: boolean;
  log?: (line: string) => void;
}

export interface FaultReport {
  readonly kind: FaultKind;
  readonly detail: string;
  /** ms from the heal to every invariant holding. */
  readonly healedIn: number;
}

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const port = (server.address() as { port: number }).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Polls `check` (which returns null when satisfied, else what is still wrong) until it holds or `bound` passes. */
async function converge(what: string, bound: number, check: () => Promise<string | null> | string | null): Promise<number> {
  const started = Date.now();
  let wrong: string | null = "not checked";
  while (Date.now() - started <= bound) {
    wrong = await check();
    if (wrong === null) return Date.now() - started;
    await sleep(100);
  }
  throw new Error(`${what} did not hold within ${bound} ms: ${wrong}`);
}

/** `rpcservice serve` in its own process, restartable on the same home and addresses. */
class ServeProcess {
  private child: ChildProcess | null = null;
  output = "";

  constructor(
    readonly home: string,
    readonly rep: string,
    readonly pub: string,
    readonly consolePort: number,
    private readonly seed: number,
  ) {
    // Heartbeats every 300 ms, so a stalled or dead server is noticed within a couple of seconds.
    writeFileSync(join(home, "rpc_service_setting.json"), JSON.stringify({ heartbeat_interval: 300 }));
  }

  async start(): Promise<void> {
    const child = spawn(
      process.execPath,
      [CLI, "serve", "--home", this.home, "--rep", this.rep, "--pub", this.pub, "--console-port", String(this.consolePort),
        "--no-risk", "--ticks-per-second", "4", "--seed", String(this.seed)],
      { stdio: ["ignore", "pipe", "pipe"] },
    );
    this.child = child;
    this.output = "";
    child.stderr!.on("data", (chunk: Buffer) => (this.output = (this.output + chunk.toString()).slice(-4_000)));
    // Generous: on a machine shared by many builds a cold start can take tens of seconds; it is not what is tested.
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`serve (pid ${child.pid}) did not start within 90 s: ${this.output}`)), 90_000);
      createInterface({ input: child.stdout! }).on("line", (line) => {
        this.output = (this.output + line + "\n").slice(-4_000);
        if (line.startsWith("console:")) {
          clearTimeout(timer);
          resolve();
        }
      });
      child.once("exit", (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`serve exited (${code ?? signal}): ${this.output}`));
      });
      child.once("error", (error) => {
        clearTimeout(timer);
        reject(error);
      });
    });
  }

  async kill9(): Promise<void> {
    const child = this.child;
    this.child = null;
    if (child) await killHard(child);
  }
}

/** The Python stand-in client: one "check" line in, one JSON line out. */
class PythonClient {
  private readonly child: ChildProcess;
  private readonly answers: ((line: string) => void)[] = [];

  constructor(req: string, sub: string) {
    this.child = spawn(PYTHON, [join(PYTHON_DIR, "chaos_client.py"), req, sub], {
      env: { ...process.env, PYTHONPATH: PYTHON_PATH },
      stdio: ["pipe", "pipe", "inherit"],
    });
    createInterface({ input: this.child.stdout! }).on("line", (line) => this.answers.shift()?.(line));
  }

  check(symbols: readonly string[], timeout = 20_000): Promise<PythonView> {
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("the Python client did not answer")), timeout);
      this.answers.push((line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as PythonView);
      });
      this.child.stdin!.write(`check ${symbols.join(" ")}\n`);
    });
  }

  kill(): void {
    this.child.kill("SIGKILL");
  }
}

interface PythonView {
  ok: boolean;
  error?: string;
  orders: Record<string, [string, number]>;
  trades: string[];
  positions: Record<string, number>;
  accounts: string[];
  ticks: Record<string, number>;
}

/** What the server holds, read straight from it (no proxy). */
interface Truth {
  epoch: string;
  orders: OrderData[];
  trades: TradeData[];
  positions: PositionData[];
  accounts: AccountData[];
}

/** One TypeScript client: a MainEngine with an RpcGateway, and what it was told. */
class GatewayClient {
  readonly engine: MainEngine;
  readonly gateway: RpcGateway;
  /** vt_orderids sendOrder returned (the client was told they were sent). */
  readonly sent: string[] = [];
  readonly lastTick = new Map<string, number>();

  constructor(readonly name: string) {
    this.engine = new MainEngine({ home: tempDir(`rpc-chaos-${name}-`) });
    this.gateway = this.engine.addGateway(RpcGateway);
    this.engine.eventEngine.register(EVENT_TICK, (e) => this.lastTick.set(e.data.vt_symbol, Date.now()));
  }

  /** Why this client's view differs from the server's, or null. */
  differences(truth: Truth): string | null {
    if (this.gateway.syncState !== "synced") return `${this.name}: ${this.gateway.syncState}`;
    const epoch = this.gateway.client?.streamPosition.epoch;
    if (epoch !== truth.epoch) return `${this.name}: epoch ${epoch} while the server runs ${truth.epoch}`;
    const local = (vtId: string) => `RPC.${vtId.slice(vtId.indexOf(".") + 1)}`;
    for (const order of truth.orders) {
      const mine = this.engine.getOrder(local(order.vt_orderid));
      if (!mine) return `${this.name}: order ${order.vt_orderid} missing`;
      if (mine.status !== order.status || mine.traded !== order.traded) {
        return `${this.name}: order ${order.vt_orderid} is ${mine.status}/${mine.traded}, server ${order.status}/${order.traded}`;
      }
    }
    if (this.engine.getAllOrders().length !== truth.orders.length) return `${this.name}: ${this.engine.getAllOrders().length} orders, server ${truth.orders.length}`;
    const trades = new Set(this.engine.getAllTrades().map((t) => t.vt_tradeid));
    for (const trade of truth.trades) if (!trades.has(local(trade.vt_tradeid))) return `${this.name}: trade ${trade.vt_tradeid} missing`;
    if (trades.size !== truth.trades.length) return `${this.name}: ${trades.size} trades, server ${truth.trades.length}`;
    for (const position of truth.positions) {
      const mine = this.engine.getPosition(`RPC.${position.vt_symbol}.${position.direction}`);
      if (!mine || mine.volume !== position.volume || mine.yd_volume !== position.yd_volume || mine.frozen !== position.frozen) {
        return `${this.name}: position ${position.vt_positionid} is ${mine?.volume}/${mine?.frozen}, server ${position.volume}/${position.frozen}`;
      }
    }
    for (const account of truth.accounts) {
      const mine = this.engine.getAccount(`RPC.${account.accountid}`);
      if (!mine || mine.balance !== account.balance || mine.frozen !== account.frozen) {
        return `${this.name}: account ${account.accountid} balance ${mine?.balance} frozen ${mine?.frozen}, server ${account.balance} ${account.frozen}`;
      }
    }
    const serverIds = new Set(truth.orders.map((o) => local(o.vt_orderid)));
    const lost = this.sent.filter((id) => !serverIds.has(id));
    if (lost.length > 0) return `${this.name}: told sent but not on the server: ${lost.join(", ")}`;
    return null;
  }

  async close(): Promise<void> {
    await this.engine.close();
  }
}

/** Runs one chaos schedule; resolves with a report per fault, rejects with what did not heal. */
export async function runChaos(options: ChaosOptions): Promise<FaultReport[]> {
  // Two generators: the trader's draws depend on timing, the schedule's must replay exactly from the seed.
  const random = prng(options.seed);
  const traderRandom = prng(options.seed ^ 0x5bd1e995);
  const log = options.log ?? (() => {});
  const pick = <T>(items: readonly T[], from = random): T => items[Math.floor(from() * items.length)]!;
  const between = (low: number, high: number, from = random) => Math.round(low + from() * (high - low));

  const [repPort, pubPort, consolePort] = [await freePort(), await freePort(), await freePort()];
  const rep = `tcp://127.0.0.1:${repPort}`;
  const pub = `tcp://127.0.0.1:${pubPort}`;
  const server = new ServeProcess(tempDir("rpc-chaos-home-"), rep, pub, consolePort, options.seed % 100_000);
  await server.start();

  const proxies = {
    req: new TcpProxy({ host: "127.0.0.1", port: repPort }),
    sub: new TcpProxy({ host: "127.0.0.1", port: pubPort }),
    ws: new TcpProxy({ host: "127.0.0.1", port: consolePort }),
  };
  const reqProxy = await proxies.req.listen();
  const subProxy = await proxies.sub.listen();
  const wsProxy = (await proxies.ws.listen()).replace(/^tcp:/, "ws:") + "/ws";

  const auditor = new RpcClient({ reqAddress: rep, subAddress: pub, timeout: 5_000, name: "chaos-auditor" });
  const operator = new WsRpcClient({ url: `ws://127.0.0.1:${consolePort}/console`, types: [], timeout: 10_000 });
  const zmq = new GatewayClient("zmq");
  const ws = new GatewayClient("ws");
  const python = options.python ? new PythonClient(rep, pub) : null;
  let trading = false;
  let traderTimer: NodeJS.Timeout | undefined;
  const stopTrading = () => {
    trading = false;
    clearTimeout(traderTimer);
  };
  const reports: FaultReport[] = [];
  try {
    auditor.start();
    operator.start();
    await zmq.engine.connect({ req_address: reqProxy, sub_address: subProxy, heartbeat_tolerance: 2_000, timeout: 4_000, client_name: "chaos-zmq" }, "RPC");
    await ws.engine.connect({ req_address: wsProxy, timeout: 4_000, client_name: "chaos-ws" }, "RPC");
    await Promise.all([zmq.gateway.ready(30_000), ws.gateway.ready(30_000)]);

    const futures = zmq.engine
      .getAllContracts()
      .filter((c) => c.exchange === Exchange.SHFE && c.product === Product.FUTURES)
      .sort((a, b) => a.vt_symbol.localeCompare(b.vt_symbol));
    const symbols: ContractData[] = [futures[0]!, futures[Math.floor(futures.length / 2)]!];
    const vtSymbols = symbols.map((c) => c.vt_symbol);
    for (const client of [zmq, ws]) {
      for (const c of symbols) await client.engine.subscribe(new SubscribeRequest({ symbol: c.symbol, exchange: c.exchange }), "RPC");
    }

    // The scripted trader: orders through both TypeScript clients, some crossing (fills), some resting, cancels.
    const trade = async () => {
      if (!trading) return;
      const client = pick([zmq, ws], traderRandom);
      const contract = pick(symbols, traderRandom);
      const tick = client.engine.getTick(contract.vt_symbol) ?? zmq.engine.getTick(contract.vt_symbol);
      const active = client.engine.getAllActiveOrders();
      if (active.length > 0 && traderRandom() < 0.25) {
        await client.engine.cancelOrder(pick(active, traderRandom).createCancelRequest(), "RPC");
      } else if (tick) {
        const buy = traderRandom() < 0.5;
        const cross = traderRandom() < 0.5;
        const steps = between(1, 5, traderRandom) * contract.pricetick;
        const price = buy ? (cross ? tick.ask_price_1 + steps : tick.bid_price_1 - steps) : cross ? tick.bid_price_1 - steps : tick.ask_price_1 + steps;
        const vt_orderid = await client.engine.sendOrder(
          new OrderRequest({
            symbol: contract.symbol,
            exchange: contract.exchange,
            direction: buy ? Direction.LONG : Direction.SHORT,
            type: OrderType.LIMIT,
            volume: between(1, 3, traderRandom),
            price: Number(price.toFixed(6)),
            offset: Offset.OPEN,
          }),
          "RPC",
        );
        if (vt_orderid) client.sent.push(vt_orderid);
      }
    };
    const scheduleTrade = () => {
      traderTimer = setTimeout(() => void trade().finally(() => trading && scheduleTrade()), between(100, 350, traderRandom));
    };
    const startTrading = () => {
      trading = true;
      scheduleTrade();
    };

    const truth = async (): Promise<Truth> => {
      await auditor.waitConnected(10_000);
      const hello = await auditor.call<HelloInfo>(HELLO_FUNCTION, [], { kwargs: { client: "chaos-auditor" } });
      const [orders, trades, positions, accounts] = await Promise.all([
        auditor.call<OrderData[]>("get_all_orders"),
        auditor.call<TradeData[]>("get_all_trades"),
        auditor.call<PositionData[]>("get_all_positions"),
        auditor.call<AccountData[]>("get_all_accounts"),
      ]);
      return { epoch: hello.epoch, orders, trades, positions, accounts };
    };

    const pythonDifferences = async (view: Truth, healedAt: number): Promise<string | null> => {
      if (!python) return null;
      const seen = await python.check(vtSymbols);
      if (!seen.ok) return `python: ${seen.error}`;
      for (const order of view.orders) {
        const mine = seen.orders[order.vt_orderid];
        if (!mine || mine[0] !== order.status || mine[1] !== order.traded) return `python: order ${order.vt_orderid} is ${mine}, server ${order.status}/${order.traded}`;
      }
      if (Object.keys(seen.orders).length !== view.orders.length) return `python: ${Object.keys(seen.orders).length} orders, server ${view.orders.length}`;
      if (seen.trades.length !== view.trades.length) return `python: ${seen.trades.length} trades, server ${view.trades.length}`;
      for (const vt_symbol of vtSymbols) {
        if (!((seen.ticks[vt_symbol] ?? 0) * 1000 > healedAt)) return `python: no tick of ${vt_symbol} since the heal`;
      }
      return null;
    };

    /** Every invariant, on a trader paused so the server's state can settle. */
    const checkHealed = async (healedAt: number): Promise<number> => {
      stopTrading();
      try {
        return await converge("agreement with the server", options.healBound, async () => {
          let view: Truth;
          try {
            view = await truth();
          } catch (error) {
            return `server not answering: ${(error as Error).message}`;
          }
          for (const client of [zmq, ws]) {
            const wrong = client.differences(view);
            if (wrong) return wrong;
            for (const vt_symbol of vtSymbols) {
              if (!((client.lastTick.get(vt_symbol) ?? 0) > healedAt)) return `${client.name}: no tick of ${vt_symbol} since the heal`;
            }
          }
          return pythonDifferences(view, healedAt);
        });
      } finally {
        startTrading();
      }
    };

    log(`chaos seed ${options.seed}: server ${rep} ${pub} console ${consolePort}`);
    await checkHealed(0);
    startTrading();

    const kinds: FaultKind[] = ["rpc-stop", "kill", "stall", "drop"];
    for (let i = kinds.length - 1; i > 0; i--) {
      const j = Math.floor(random() * (i + 1));
      [kinds[i], kinds[j]] = [kinds[j]!, kinds[i]!];
    }
    for (let n = 0; n < options.faults; n++) {
      const kind: FaultKind = n < kinds.length ? kinds[n]! : pick(["rpc-stop", "kill", "stall", "drop"] as const);
      await sleep(between(300, 1_500)); // trading before the fault
      let detail = "";
      switch (kind) {
        case "rpc-stop": {
          const outage = between(200, options.maxOutage);
          detail = `${outage} ms`;
          await operator.waitConnected(15_000);
          if ((await operator.call<boolean>("rpc_stop")) !== true) throw new Error("rpc_stop refused");
          await sleep(outage);
          if ((await operator.call<boolean>("rpc_start", [rep, pub])) !== true) throw new Error("rpc_start refused");
          break;
        }
        case "kill": {
          const pause = between(0, 1_000);
          detail = `restart after ${pause} ms`;
          await server.kill9();
          await sleep(pause);
          await server.start();
          break;
        }
        case "stall": {
          const which = pick(["req", "sub", "ws", "all"] as const);
          const outage = between(200, options.maxOutage);
          detail = `${which} for ${outage} ms`;
          const stalled = which === "all" ? Object.values(proxies) : [proxies[which]];
          for (const proxy of stalled) proxy.stall();
          await sleep(outage);
          for (const proxy of stalled) proxy.resume();
          break;
        }
        case "drop": {
          const which = pick(["req", "sub", "ws", "all"] as const);
          detail = which;
          for (const proxy of which === "all" ? Object.values(proxies) : [proxies[which]]) proxy.drop();
          break;
        }
      }
      const healedAt = Date.now();
      log(`fault ${n + 1}/${options.faults}: ${kind} ${detail}`);
      const healedIn = await checkHealed(healedAt);
      log(`  healed in ${healedIn} ms (${zmq.sent.length + ws.sent.length} orders sent so far)`);
      reports.push({ kind, detail, healedIn });
    }
    return reports;
  } finally {
    stopTrading();
    python?.kill();
    await Promise.allSettled([zmq.close(), ws.close(), auditor.close(), operator.close()]);
    await Promise.allSettled(Object.values(proxies).map((p) => p.close()));
    await server.kill9();
  }
}

/** The kill -9 + restart (within a second) chaos against the Python stand-in VeighNa server. */
export async function runVeighNaChaos(options: { seed: number; rounds: number; healBound: number; log?: (line: string) => void }): Promise<number[]> {
  const random = prng(options.seed);
  const log = options.log ?? (() => {});
  let server = await startVeighNaServer();
  const { rep, pub } = server;
  const client = new GatewayClient("veighna");
  const healTimes: number[] = [];
  try {
    await client.engine.connect({ req_address: rep, sub_address: pub, timeout: 4_000 }, "RPC");
    await client.gateway.ready(30_000);
    await client.engine.subscribe(new SubscribeRequest({ symbol: "rb2501", exchange: Exchange.SHFE }), "RPC");
    for (let round = 1; round <= options.rounds; round++) {
      // An order on this server run: resting (price 3000) or filling (3999).
      const vt_orderid = await client.engine.sendOrder(
        new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1,
          price: random() < 0.5 ? 3000 : 3999, offset: Offset.OPEN }),
        "RPC",
      );
      if (!vt_orderid) throw new Error(`round ${round}: the order was not sent`);
      const pause = Math.round(random() * 1_000);
      await killHard(server.child);
      await sleep(pause);
      server = await startVeighNaServer([rep, pub, String(round + 1)]);
      const healedAt = Date.now();
      const session = `${round + 1}_-`;
      const healedIn = await converge(`VeighNa round ${round}`, options.healBound, async () => {
        if (client.gateway.syncState !== "synced") return `state ${client.gateway.syncState}`;
        if (!((client.lastTick.get("rb2501.SHFE") ?? 0) > healedAt)) return "no tick since the restart";
        // The new run's order must round-trip: sent, acknowledged, and known on both sides with the same status.
        const fresh = client.engine.getAllOrders().filter((o) => o.orderid.startsWith(session));
        if (fresh.length === 0) {
          const id = await client.engine.sendOrder(
            new OrderRequest({ symbol: "rb2501", exchange: Exchange.SHFE, direction: Direction.LONG, type: OrderType.LIMIT, volume: 1, price: 3000, offset: Offset.OPEN }),
            "RPC",
          );
          return id ? "order sent, waiting for its push" : "order not sent";
        }
        const serverOrders = await client.gateway.client!.call<OrderData[]>("get_all_orders");
        for (const order of serverOrders) {
          const mine = client.engine.getOrder(`RPC.${order.orderid}`);
          if (!mine || mine.status !== order.status) return `order ${order.vt_orderid}: ${mine?.status}, server ${order.status}`;
        }
        return null;
      });
      log(`VeighNa round ${round}: kill -9, restart after ${pause} ms, healed in ${healedIn} ms`);
      healTimes.push(healedIn);
    }
    return healTimes;
  } finally {
    await client.close();
    await killHard(server.child);
  }
}
