/** `rpcservice serve`: the main job — a MainEngine with the simulated exchange, served to clients. */
import type { Command } from "commander";
import { MainEngine, type Language } from "../kernel/index.js";
import { printLog } from "./log-printer.js";

export interface ServeOptions {
  home: string;
  language: Language;
}

export interface RunningServer {
  readonly mainEngine: MainEngine;
  stop(): Promise<void>;
}

/** Starts everything `serve` runs; returns a handle to stop it (used by the command and by tests). */
export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const mainEngine = new MainEngine({ home: options.home, language: options.language, logSink: (log) => printLog(log) });
  return {
    mainEngine,
    stop: () => mainEngine.close(),
  };
}

export function registerServeCommand(program: Command): void {
  program
    .command("serve")
    .description("run the server: MainEngine + simulated exchange + RPC service (+ risk manager and console)")
    .option("--home <dir>", "settings and data folder", ".rpcservice")
    .option("--language <lang>", "log language: en or zh (VeighNa's Chinese strings)", "en")
    .action(async (opts: { home: string; language: string }) => {
      if (opts.language !== "en" && opts.language !== "zh") program.error(`--language must be en or zh, got ${opts.language}`);
      const server = await startServer({ home: opts.home, language: opts.language as Language });
      // The engine's own timers do not hold the process open: the command does, until a signal.
      const keepAlive = setInterval(() => {}, 1 << 30);
      let stopping = false;
      const stop = (signal: string): void => {
        if (stopping) return;
        stopping = true;
        clearInterval(keepAlive);
        process.stdout.write(`received ${signal}, stopping\n`);
        // A second signal or a stuck close must not keep the process alive.
        setTimeout(() => process.exit(1), 5000).unref();
        server.stop().then(
          () => process.exit(0),
          (error: unknown) => {
            console.error(error);
            process.exit(1);
          },
        );
      };
      process.on("SIGINT", () => stop("SIGINT"));
      process.on("SIGTERM", () => stop("SIGTERM"));
    });
}
