/**
 * What `serve` says at start: the addresses a user needs, and the start failures a user can fix (the console's port
 * taken, a server already running on the home), each as one CliError.
 */
import { ConsoleStartError, type ConsoleEngine, type ConsoleStarted } from "../console/index.js";
import { CliError } from "./errors.js";
import { findServer } from "./server-record.js";

export async function startConsole(engine: ConsoleEngine, where: { host: string; port: number }): Promise<ConsoleStarted> {
  try {
    return await engine.start(where);
  } catch (error) {
    if (!(error instanceof ConsoleStartError)) throw error;
    throw new CliError(`the console did not start: ${error.message}`, "choose another --console-port (0 picks a free one) or --console-host, or run with --no-console");
  }
}

/** What a user needs to connect: both ZeroMQ addresses (for `client --req/--sub`) and the console URL. */
export function printAddresses(out: (line: string) => void, rpc: { rep: string; pub: string } | null, started: ConsoleStarted | null): void {
  if (rpc) {
    out(`request/reply: ${rpc.rep}   (client --req, VeighNa 主动请求地址)`);
    out(`broadcast:     ${rpc.pub}   (client --sub, VeighNa 推送订阅地址)`);
  }
  if (!started) return;
  out(`console: ${started.tokenCreated ? started.urlWithToken : started.url}`);
  if (started.tokenCreated && started.tokenPath) out(`console token created (shown once above) and kept in ${started.tokenPath}`);
  else if (started.tokenPath) out(`console token: see ${started.tokenPath}`);
}

/** Two servers on one home would share its journal and settings: the second one stops before touching them. */
export function refuseSecondServer(home: string): void {
  const lookup = findServer(home);
  if (lookup.kind !== "running") return;
  const where = lookup.record.console ? `, console ${lookup.record.console}` : "";
  throw new CliError(`a server already runs with home ${home} (pid ${lookup.record.pid}${where})`, "stop it first, or give this one another --home");
}
