/**
 * A whole server for the console's browser tests: MainEngine with the simulated exchange, the risk manager, an
 * RPC service and the console on a free loopback port, in a temporary home folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { createServer, type Server } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { BaseEngine, Event, LogData, MainEngine, type EventEngine } from "../../src/kernel/index.js";
import { RiskManagerApp } from "../../src/risk/index.js";
import { ConsoleApp, type ConsoleEngine, type ConsoleStarted } from "../../src/console/index.js";
import { SimGateway } from "../../src/sim/index.js";

/**
 * Until the rpc branch's RpcServiceApp is merged: binds the request address for real (so "address in use"
 * is real) and logs VeighNa's lines to eRpcLog.
 */
class InterimRpcEngine extends BaseEngine {
  repAddress = "tcp://127.0.0.1:0";
  pubAddress = "tcp://127.0.0.1:0";
  private server: Server | undefined;

  constructor(mainEngine: MainEngine, eventEngine: EventEngine) {
    super(mainEngine, eventEngine, "RpcService");
  }

  get isActive(): boolean {
    return this.server !== undefined;
  }

  async start(rep: string, pub: string): Promise<boolean> {
    if (this.server) {
      this.log("RPC service is already running");
      return false;
    }
    const match = /^tcp:\/\/([^:]+):(\d+)$/.exec(rep);
    if (!match || !/^tcp:\/\/[^:]+:\d+$/.test(pub)) {
      this.log(`RPC service failed to start: bad address ${rep} / ${pub}`, 40);
      return false;
    }
    const server = createServer((socket) => socket.destroy());
    try {
      await new Promise<void>((resolve, reject) => {
        server.once("error", reject);
        server.listen(Number(match[2]), match[1] === "*" ? "0.0.0.0" : match[1], () => resolve());
      });
    } catch (error) {
      this.log(`RPC service failed to start: ${(error as Error).message}`, 40);
      return false;
    }
    this.server = server;
    this.repAddress = rep;
    this.pubAddress = pub;
    this.log("RPC service started successfully");
    return true;
  }

  async stop(): Promise<boolean> {
    const server = this.server;
    if (!server) {
      this.log("RPC service not started");
      return false;
    }
    this.server = undefined;
    await new Promise<void>((resolve) => server.close(() => resolve()));
    this.log("RPC service stopped");
    return true;
  }

  override async close(): Promise<void> {
    if (this.server) await this.stop();
  }

  private log(msg: string, level = 20): void {
    this.eventEngine.put(new Event("eRpcLog", new LogData({ msg, gateway_name: "RpcService", level })));
    this.mainEngine.writeLog(msg, "RpcService", level);
  }
}

export interface ConsoleFixture {
  mainEngine: MainEngine;
  consoleEngine: ConsoleEngine;
  started: ConsoleStarted;
  home: string;
  stop(): Promise<void>;
}

/** The contract the browser tests trade: the first SHFE future of the simulated universe. */
export function tradedSymbol(mainEngine: MainEngine): string {
  const contract = mainEngine.getAllContracts().find((c) => c.exchange === "SHFE" && c.product === "期货");
  if (!contract) throw new Error("the simulated universe has no SHFE future");
  return contract.vt_symbol;
}

export async function startConsoleFixture(port = 0, host = "127.0.0.1"): Promise<ConsoleFixture> {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-console-"));
  const mainEngine = new MainEngine({ home });
  const risk = mainEngine.addApp(RiskManagerApp);
  await risk.ready;
  mainEngine.addGateway(SimGateway);
  mainEngine.addEngine(InterimRpcEngine);
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  await mainEngine.connect({ data_dir: ":memory:", ticks_per_second: 5 }, "SIM");
  // Contracts arrive as events: let the engine process them before anyone asks.
  for (let i = 0; i < 200 && mainEngine.getAllContracts().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const started = await consoleEngine.start({ host, port });
  return {
    mainEngine,
    consoleEngine,
    started,
    home,
    async stop() {
      await mainEngine.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}
