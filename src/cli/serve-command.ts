/**
 * `rpcservice serve`: the main job. A MainEngine with the simulated exchange, the risk manager, the RPC service
 * (ZeroMQ, VeighNa's wire) and the web console, logging to the terminal until SIGINT/SIGTERM.
 */
import { join } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { ConsoleApp, type ConsoleStarted } from "../console/index.js";
import { MainEngine, type Language } from "../kernel/index.js";
import { RiskManagerApp } from "../risk/index.js";
import { RpcServiceApp, type RpcEngine } from "../service/index.js";
import { SimGateway } from "../sim/index.js";
import { CliError, addressHint, reportFailure } from "./errors.js";
import { LOG_FORMATS, logPrinter, type LogFormat } from "./log-printer.js";
import { removeServerRecord, writeServerRecord } from "./server-record.js";
import { printAddresses, refuseSecondServer, startConsole } from "./serve-startup.js";

export interface ServeOptions {
  home: string;
  language: Language;
  /** Override the saved request/reply address. */
  rep?: string;
  /** Override the saved publish address. */
  pub?: string;
  transport?: "zmtp" | "zeromq";
  /** Turn CURVE on (saved with the RPC settings); absent: the saved setting. */
  curve?: boolean;
  risk: boolean;
  /** null: no console. */
  console: { host: string; port: number } | null;
  sim: { ticksPerSecond?: number; seed?: number; contractsFile?: string };
  /** Where log lines go; default the terminal. */
  log?: (line: string) => void;
  /** "human" (default) or "json" (one pino line per log). */
  logFormat?: LogFormat;
}

export interface RunningServer {
  readonly mainEngine: MainEngine;
  readonly rpc: RpcEngine;
  readonly console: ConsoleStarted | null;
  stop(): Promise<void>;
}

/** Starts everything `serve` runs; returns a handle to stop it (used by the command and by tests). */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const printer = logPrinter(options.logFormat ?? "human", options.log ?? ((line: string) => process.stdout.write(line + "\n")));
  const out = printer.note;
  const mainEngine = new MainEngine({
    home: options.home,
    language: options.language,
    logSink: printer.log,
  });
  try {
    // Risk first only for readability: the order-check pipeline holds whatever the order of the apps.
    if (options.risk) await mainEngine.addApp(RiskManagerApp).ready;
    mainEngine.addGateway(SimGateway);
    const rpc = mainEngine.addApp(RpcServiceApp);
    const consoleEngine = options.console ? mainEngine.addApp(ConsoleApp) : null;

    const simSetting: Record<string, string | number> = { data_dir: join(mainEngine.home, "sim") };
    if (options.sim.ticksPerSecond !== undefined) simSetting["ticks_per_second"] = options.sim.ticksPerSecond;
    if (options.sim.seed !== undefined) simSetting["seed"] = options.sim.seed;
    if (options.sim.contractsFile) simSetting["contracts_file"] = options.sim.contractsFile;
    await mainEngine.connect(simSetting, "SIM");

    // The console first: it hands its /ws endpoint to the RPC service, which then starts with it.
    const started = consoleEngine && options.console ? await startConsole(consoleEngine, options.console) : null;
    const rep = options.rep ?? rpc.repAddress;
    const pub = options.pub ?? rpc.pubAddress;
    const rpcStarted = await rpc.start(rep, pub, {
      ...(options.transport ? { transport: options.transport } : {}),
      ...(options.curve !== undefined ? { curve: options.curve } : {}),
    });
    if (!rpcStarted) {
      const failure = `the RPC service did not start on ${rep} / ${pub}: ${rpc.lastStartError ?? "see the log"}`;
      // Without a console nothing could start it later: a server that serves nothing is an error.
      if (!started) throw new CliError(failure, addressHint(rpc.lastStartError ?? ""));
      out(`${failure}; once the cause is fixed, start it from the console or with \`rpcservice rpc start --home ${options.home} --rep ADDR --pub ADDR\``);
    }
    printAddresses(out, rpcStarted ? rpc.addresses : null, started);
    return { mainEngine, rpc, console: started, stop: () => mainEngine.close() };
  } catch (error) {
    await mainEngine.close();
    throw error;
  }
}

function positiveNumber(text: string): number {
  const value = Number(text);
  if (!Number.isFinite(value) || value <= 0) throw new InvalidArgumentError("must be a positive number");
  return value;
}

function port(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value < 0 || value > 65_535) throw new InvalidArgumentError("must be a port, 0 to 65535");
  return value;
}

interface ServeFlags {
  home: string;
  language: Language;
  rep?: string;
  pub?: string;
  transport?: "zmtp" | "zeromq";
  curve?: boolean;
  risk: boolean;
  console: boolean;
  consoleHost: string;
  consolePort: number;
  ticksPerSecond?: number;
  seed?: number;
  contracts?: string;
  logFormat: LogFormat;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the server: simulated exchange + risk manager + RPC service (ZeroMQ) + web console")
    .option("--home <dir>", "settings and data folder", ".rpcservice")
    .option("--rep <address>", "request/reply address, e.g. tcp://127.0.0.1:2014 or ipc:///tmp/rpc.sock (default: saved setting)")
    .option("--pub <address>", "event broadcast address, e.g. tcp://127.0.0.1:4102 (default: saved setting)")
    .addOption(new Option("--transport <kind>", "ZeroMQ implementation").choices(["zmtp", "zeromq"]))
    .option("--curve", "CURVE encryption + client keys (saved): server key in <home>/curve_server.key, allow-list <home>/authorized_clients")
    .option("--no-curve", "turn CURVE off again (saved)")
    .option("--no-risk", "run without the risk manager")
    .option("--no-console", "run without the web console")
    .option("--console-host <host>", "console address; anything but loopback requires the console token", "127.0.0.1")
    .option("--console-port <port>", "console port", port, 8080)
    .option("--ticks-per-second <n>", "simulated ticks per second per subscribed contract", positiveNumber)
    .option("--seed <n>", "seed of the simulated market", (text) => Math.trunc(positiveNumber(text)))
    .option("--contracts <file>", "JSON file of contracts for the simulated exchange instead of the built-in universe")
    .addOption(new Option("--language <lang>", "log language (zh: VeighNa's Chinese strings)").choices(["en", "zh"]).default("en"))
    .addOption(new Option("--log-format <format>", "log lines for a terminal, or JSON lines (pino) for log shippers").choices([...LOG_FORMATS]).default("human"))
    .action(async (flags: ServeFlags) => {
      refuseSecondServer(flags.home);
      const server = await startServer({
        home: flags.home,
        language: flags.language,
        ...(flags.rep ? { rep: flags.rep } : {}),
        ...(flags.pub ? { pub: flags.pub } : {}),
        ...(flags.transport ? { transport: flags.transport } : {}),
        ...(flags.curve !== undefined ? { curve: flags.curve } : {}),
        risk: flags.risk,
        logFormat: flags.logFormat,
        console: flags.console ? { host: flags.consoleHost, port: flags.consolePort } : null,
        sim: {
          ...(flags.ticksPerSecond !== undefined ? { ticksPerSecond: flags.ticksPerSecond } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.contracts ? { contractsFile: flags.contracts } : {}),
        },
      });
      writeServerRecord(flags.home, server.console?.url ?? null);
      // The engine's own timers do not hold the process open: the command does, until a signal.
      const keepAlive = setInterval(() => {}, 1 << 30);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        clearInterval(keepAlive);
        process.stdout.write(`received ${signal}, stopping\n`);
        // A stuck close must not keep the process alive.
        setTimeout(() => process.exit(1), 5000).unref();
        removeServerRecord(flags.home);
        server.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            reportFailure(error);
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    });
}
