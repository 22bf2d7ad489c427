/** A trading server on the bus for the NATS tests: MainEngine + SIM + RpcService with a NATS endpoint. */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Direction, MainEngine, Offset, OrderRequest, OrderType, type ContractData } from "../../../src/kernel/index.js";
import { NatsEndpoint, type ConnectedClient, type NatsEndpointOptions, type PublishedEvent, type ServerEndpoint } from "../../../src/rpc/index.js";
import { RpcServiceApp, type RpcEngine } from "../../../src/service/index.js";
import { SimGateway } from "../../../src/sim/index.js";

/** Remembers every event the server numbered: what clients must receive. */
export class RecordingEndpoint implements ServerEndpoint {
  readonly name = "record";
  readonly events: PublishedEvent[] = [];
  async start(): Promise<void> {}
  async stop(): Promise<void> {}
  publish(published: PublishedEvent): void {
    this.events.push(published);
  }
  clients(): ConnectedClient[] {
    return [];
  }
  seqsOf(types: readonly string[]): number[] {
    return this.events.filter((e) => types.includes(e.event.type)).map((e) => e.seq);
  }
}

export interface NatsServerFixture {
  mainEngine: MainEngine;
  rpc: RpcEngine;
  endpoint: NatsEndpoint;
  recorder: RecordingEndpoint;
  /** The server's log lines ("<level> <message>"). */
  logs: string[];
  stop(): Promise<void>;
}

export async function startNatsServer(options: NatsEndpointOptions, ticksPerSecond = 5): Promise<NatsServerFixture> {
  const home = mkdtempSync(join(tmpdir(), "rpcservice-nats-server-"));
  const logs: string[] = [];
  const mainEngine = new MainEngine({ home, logSink: (log) => logs.push(`${log.level} ${log.msg}`) });
  mainEngine.addGateway(SimGateway);
  const rpc = mainEngine.addApp(RpcServiceApp);
  // Capital enough for the hundreds of fills a failover test makes.
  await mainEngine.connect({ data_dir: ":memory:", ticks_per_second: ticksPerSecond, capital: 1e12 }, "SIM");
  for (let i = 0; i < 200 && mainEngine.getAllContracts().length === 0; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  const endpoint = new NatsEndpoint(options);
  const recorder = new RecordingEndpoint();
  rpc.addEndpoint(recorder);
  rpc.addEndpoint(endpoint);
  if (!(await rpc.start("tcp://127.0.0.1:0", "tcp://127.0.0.1:0"))) {
    await mainEngine.close();
    throw new Error(`the RPC service did not start:\n${logs.slice(-5).join("\n")}`);
  }
  return {
    mainEngine,
    rpc,
    endpoint,
    recorder,
    logs,
    async stop() {
      await mainEngine.close();
      rmSync(home, { recursive: true, force: true });
    },
  };
}

/** SHFE futures of the simulated universe, in a stable order. */
export function futures(mainEngine: MainEngine): ContractData[] {
  return mainEngine
    .getAllContracts()
    .filter((c) => c.exchange === "SHFE" && c.product === "期货")
    .sort((a, b) => a.vt_symbol.localeCompare(b.vt_symbol));
}

/** An order that fills at once: an order event stream and a trade. */
export function marketOrder(contract: ContractData, direction: Direction = Direction.LONG): OrderRequest {
  return new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction, type: OrderType.MARKET, volume: 1, price: 0, offset: Offset.OPEN });
}
