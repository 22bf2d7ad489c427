/**
 * A whole server for the console's browser tests: MainEngine with the simulated exchange, the risk manager, an
 * RPC service and the console on a free loopback port, in a temporary home folder.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { MainEngine } from "../../src/kernel/index.js";
import { RpcServiceApp } from "../../src/service/index.js";
import { RiskManagerApp } from "../../src/risk/index.js";
import { ConsoleApp, type ConsoleEngine, type ConsoleStarted } from "../../src/console/index.js";
import { GatewayKinds, GatewayManagerApp } from "../../src/gateways/index.js";

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
  // SIM through the gateway manager, as `serve` runs it: the console lists it and can disconnect it.
  const gateways = mainEngine.addApp(GatewayManagerApp);
  gateways.add(new GatewayKinds().parse({ kind: "sim", setting: { data_dir: ":memory:", ticks_per_second: 5 } }, "fixture", home));
  mainEngine.addApp(RpcServiceApp);
  const consoleEngine = mainEngine.addApp(ConsoleApp);
  await gateways.connectAll();
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
