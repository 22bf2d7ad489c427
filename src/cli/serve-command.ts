/**
 * `rpcservice serve`: the main job. A MainEngine with its gateways (the simulated exchange by default; gateway
 * files and `--upstream` add others), the risk manager, the RPC service (ZeroMQ, VeighNa's wire) and the web
 * console, logging to the terminal until SIGINT/SIGTERM.
 */
import { join } from "node:path";
import { InvalidArgumentError, Option, type Command } from "commander";
import { ConsoleApp, type ConsoleStarted } from "../console/index.js";
import { GatewayKinds, GatewayManagerApp, planGateways, type UpstreamFlags } from "../gateways/index.js";
import { DEFAULT_LANGUAGE, LANGUAGES, MainEngine, type GatewaySetting, type Language, WARNING } from "../kernel/index.js";
import { RiskManagerApp } from "../risk/index.js";
import { DEFAULT_NATS_SERVER_NAME, isServerName, parseNatsServers } from "../rpc/index.js";
import { RpcServiceApp, type NatsServeOptions, type RpcEngine } from "../service/index.js";
import { resetJournal } from "../sim/index.js";
import { CliError, addressHint, reportFailure } from "./errors.js";
import { LOG_FORMATS, logPrinter, type LogFormat } from "./log-printer.js";
import { removeServerRecord, writeServerRecord } from "./server-record.js";
import { printAddresses, refuseSecondServer, startConsole } from "./serve-startup.js";

/** How long a SIGTERM/SIGINT shutdown may drain and close before the process exits anyway. */
export const STOP_DEADLINE_MS = 1_500;
/** Of which events still queued may take this long; the rest are left (clients resynchronise after a restart). */
const STOP_DRAIN_BUDGET_MS = 300;

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
  /** Also serve on a NATS cluster (saved); absent: the saved setting. */
  nats?: NatsServeOptions;
  risk: boolean;
  /** null: no console. `allowedHosts`: extra Host names (DNS rebinding defence); `tokenAlways`: token on loopback too. */
  console: { host: string; port: number; allowedHosts?: string[]; tokenAlways?: boolean } | null;
  sim: { ticksPerSecond?: number; seed?: number; contractsFile?: string; resetJournal?: boolean };
  /** true/false: --sim/--no-sim; absent: SIM only when no other gateway is configured. */
  runSim?: boolean;
  /** `--upstream ...`: an RpcGateway in front of another server (a relay). */
  upstream?: UpstreamFlags;
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
    const gateways = mainEngine.addApp(GatewayManagerApp);
    const rpc = mainEngine.addApp(RpcServiceApp);
    gateways.serveOn(rpc.server);
    const consoleEngine = options.console ? mainEngine.addApp(ConsoleApp) : null;

    if (options.sim.resetJournal) {
      const aside = resetJournal(join(mainEngine.home, "sim"));
      if (aside) mainEngine.writeLog(`--reset-journal: the venue journal was moved to ${aside}; starting a new, empty venue`, "serve", WARNING);
    }
    const simSetting: GatewaySetting = {};
    if (options.sim.ticksPerSecond !== undefined) simSetting["ticks_per_second"] = options.sim.ticksPerSecond;
    if (options.sim.seed !== undefined) simSetting["seed"] = options.sim.seed;
    if (options.sim.contractsFile) simSetting["contracts_file"] = options.sim.contractsFile;
    const planned = planGateways({
      home: mainEngine.home,
      kinds: new GatewayKinds(),
      simSetting,
      ...(options.runSim !== undefined ? { sim: options.runSim } : {}),
      ...(options.upstream ? { upstream: options.upstream } : {}),
    });
    for (const config of planned) gateways.add(config);
    await gateways.connectAll();

    // The console first: it hands its /ws endpoint to the RPC service, which then starts with it.
    const consoleOptions = options.console;
    const started =
      consoleEngine && consoleOptions
        ? await startConsole(consoleEngine, {
            host: consoleOptions.host,
            port: consoleOptions.port,
            allowedHosts: consoleOptions.allowedHosts ?? [],
            ...(consoleOptions.tokenAlways ? { token: "always" as const } : {}),
          })
        : null;
    const rep = options.rep ?? rpc.repAddress;
    const pub = options.pub ?? rpc.pubAddress;
    const rpcStarted = await rpc.start(rep, pub, {
      ...(options.transport ? { transport: options.transport } : {}),
      ...(options.curve !== undefined ? { curve: options.curve } : {}),
      ...(options.nats ? { nats: options.nats } : {}),
    });
    if (!rpcStarted) {
      const failure = `the RPC service did not start on ${rep} / ${pub}: ${rpc.lastStartError ?? "see the log"}`;
      // Without a console nothing could start it later: a server that serves nothing is an error.
      if (!started) throw new CliError(failure, addressHint(rpc.lastStartError ?? ""));
      out(`${failure}; once the cause is fixed, start it from the console or with \`rpcservice rpc start --home ${options.home} --rep ADDR --pub ADDR\``);
    }
    printAddresses(out, rpcStarted ? rpc.addresses : null, started);
    return { mainEngine, rpc, console: started, stop: () => mainEngine.close({ drainBudgetMs: STOP_DRAIN_BUDGET_MS }) };
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

function natsUrls(text: string): string {
  try {
    return parseNatsServers(text).join(",");
  } catch (error) {
    throw new InvalidArgumentError((error as Error).message);
  }
}

function serverName(text: string): string {
  if (!isServerName(text)) throw new InvalidArgumentError("a server name is 1-64 of A-Z a-z 0-9 _ -");
  return text;
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
  nats?: string;
  natsName?: string;
  natsCreds?: string;
  risk: boolean;
  console: boolean;
  consoleHost: string;
  consolePort: number;
  consoleAllowedHost: string[];
  consoleTokenAlways?: boolean;
  ticksPerSecond?: number;
  seed?: number;
  contracts?: string;
  resetJournal?: boolean;
  sim?: boolean;
  upstream?: string;
  upstreamName?: string;
  upstreamKey?: string;
  upstreamServerKey?: string;
  logFormat: LogFormat;
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the server: gateways (simulated exchange, or --upstream / <home>/connect_*.json) + risk manager + RPC service (ZeroMQ) + web console")
    .option("--home <dir>", "settings and data folder", ".rpcservice")
    .option("--rep <address>", "request/reply address, e.g. tcp://127.0.0.1:2014 or ipc:///tmp/rpc.sock (default: saved setting)")
    .option("--pub <address>", "event broadcast address, e.g. tcp://127.0.0.1:4102 (default: saved setting)")
    .addOption(new Option("--transport <kind>", "ZeroMQ implementation").choices(["zmtp", "zeromq"]))
    .option("--curve", "CURVE encryption + client keys (saved): server key in <home>/curve_server.key, allow-list <home>/authorized_clients")
    .option("--no-curve", "turn CURVE off again (saved)")
    .option("--nats <urls>", "also serve on a NATS cluster, e.g. nats://127.0.0.1:4222,nats://127.0.0.1:4223 (saved)", natsUrls)
    .option("--nats-name <name>", `this server's name on the bus (default ${DEFAULT_NATS_SERVER_NAME}; saved)`, serverName)
    .option("--nats-creds <file>", "NATS credentials file (user JWT + nkey seed; saved)")
    .option("--no-risk", "run without the risk manager")
    .option("--no-console", "run without the web console")
    .option("--console-host <host>", "console address; anything but loopback requires the console token", "127.0.0.1")
    .option("--console-port <port>", "console port", port, 8080)
    .option(
      "--console-allowed-host <name>",
      "a Host name the console answers to besides its address (repeatable; e.g. the machine's DNS name or a proxy's)",
      (value: string, previous: string[]) => [...previous, value],
      [] as string[],
    )
    .option("--console-token-always", "require the console token on loopback too (shared machines)")
    .option("--ticks-per-second <n>", "simulated ticks per second per subscribed contract", positiveNumber)
    .option("--seed <n>", "seed of the simulated market", (text) => Math.trunc(positiveNumber(text)))
    .option("--reset-journal", "move the simulated venue's journal (<home>/sim/sim.db) aside and start a new, empty venue")
    .option("--contracts <file>", "JSON file of contracts for the simulated exchange instead of the built-in universe")
    .option("--upstream <req,sub>", "relay: trade through the RPC server at REQ_ADDRESS,SUB_ADDRESS (ours or a Python VeighNa one)")
    .option("--upstream-name <name>", "the upstream gateway's name here (default RPC)")
    .option("--upstream-key <file>", "CURVE: our secret key file for the upstream (rpcservice keys generate)")
    .option("--upstream-server-key <key>", "CURVE: the upstream server's public key")
    .option("--sim", "run the simulated exchange (default: only when no other gateway is configured)")
    .option("--no-sim", "do not run the simulated exchange")
    .addOption(new Option("--language <lang>", "log language (zh: VeighNa's Chinese strings)").choices(LANGUAGES).default(DEFAULT_LANGUAGE))
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
        ...(flags.nats ? { nats: { servers: flags.nats.split(","), ...(flags.natsName ? { name: flags.natsName } : {}), ...(flags.natsCreds ? { creds: flags.natsCreds } : {}) } } : {}),
        risk: flags.risk,
        logFormat: flags.logFormat,
        console: flags.console
          ? {
              host: flags.consoleHost,
              port: flags.consolePort,
              allowedHosts: flags.consoleAllowedHost,
              ...(flags.consoleTokenAlways ? { tokenAlways: true } : {}),
            }
          : null,
        sim: {
          ...(flags.ticksPerSecond !== undefined ? { ticksPerSecond: flags.ticksPerSecond } : {}),
          ...(flags.seed !== undefined ? { seed: flags.seed } : {}),
          ...(flags.contracts ? { contractsFile: flags.contracts } : {}),
          ...(flags.resetJournal ? { resetJournal: true } : {}),
        },
        ...(flags.sim !== undefined ? { runSim: flags.sim } : {}),
        ...(flags.upstream !== undefined
          ? {
              upstream: {
                addresses: flags.upstream,
                ...(flags.upstreamName !== undefined ? { name: flags.upstreamName } : {}),
                ...(flags.upstreamKey !== undefined ? { keyFile: flags.upstreamKey } : {}),
                ...(flags.upstreamServerKey !== undefined ? { serverKey: flags.upstreamServerKey } : {}),
              },
            }
          : {}),
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
        // Drain with a deadline, then go: under any load the process is gone within 2 s of the signal. The
        // journal is safe either way (every action is committed before it is published).
        setTimeout(() => {
          process.stdout.write(`stop deadline of ${STOP_DEADLINE_MS} ms passed, exiting\n`);
          process.exit(1);
        }, STOP_DEADLINE_MS).unref();
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
