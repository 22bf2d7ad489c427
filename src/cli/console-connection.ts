/**
 * How the steering commands reach a running server: its console's WebSocket (`ws://<console>/console`), found from
 * `--console` or else from the server's record in `--home`, with its token from `--token` or `<home>/console_token`.
 * Every way this can fail is a CliError saying where it looked and what to change.
 */
import { readFileSync } from "node:fs";
import { join } from "node:path";
import type { Command } from "commander";
import { RpcError, WsRpcClient } from "../rpc/index.js";
import { CliError } from "./errors.js";
import { findServer } from "./server-record.js";

export interface ConnectionFlags {
  console?: string;
  token?: string;
  home: string;
}

const CONNECT_TIMEOUT_MS = 5_000;

export function connectionOptions(command: Command): Command {
  return command
    .option("--home <dir>", "the server's home folder: where to find its console and token", ".rpcservice")
    .option("--console <url>", "the server's console address, e.g. http://127.0.0.1:8080 (default: from <home>/server.json)")
    .option("--token <token>", "console token (default: read from <home>/console_token)");
}

/** Connects, runs `body` with a call function whose failures are CliErrors, and always closes. */
export async function withConsole<T>(flags: ConnectionFlags, body: (call: ConsoleCall) => Promise<T>): Promise<T> {
  const target = locateConsole(flags);
  const token = tokenOf(flags);
  const client = new WsRpcClient({ url: target.url, reconnect: false, types: [], timeout: 10_000, ...(token ? { token } : {}) });
  try {
    await connected(client, target);
    return await body(async <R>(name: string, args: unknown[] = []) => {
      try {
        return await client.call<R>(name, args);
      } catch (error) {
        if (error instanceof RpcError) throw new CliError(`the server refused ${name}: ${error.message}`);
        throw error;
      }
    });
  } finally {
    await client.close();
  }
}

export type ConsoleCall = <R>(name: string, args?: unknown[]) => Promise<R>;

interface ConsoleTarget {
  url: string;
  /** Where the URL came from, for the error lines. */
  source: string;
}

function locateConsole(flags: ConnectionFlags): ConsoleTarget {
  if (flags.console) return { url: consoleUrl(flags.console), source: "--console" };
  const lookup = findServer(flags.home);
  const start = `start one with \`rpcservice serve --home ${flags.home}\`, or give --home of a running server or --console URL`;
  if (lookup.kind === "missing") throw new CliError(`no running server recorded in ${flags.home} (no ${lookup.path})`, start);
  if (lookup.kind === "stale") throw new CliError(`the server recorded in ${lookup.path} (pid ${lookup.record.pid}) is no longer running`, start);
  if (lookup.record.console === null) {
    throw new CliError(`the server in ${flags.home} (pid ${lookup.record.pid}) runs without a console (--no-console)`, "restart it with a console to steer it");
  }
  return { url: consoleUrl(lookup.record.console), source: lookup.path };
}

function consoleUrl(address: string): string {
  const base = address.replace(/\/+$/, "").replace(/^http/, "ws");
  return /^wss?:\/\//.test(base) ? `${base}/console` : `ws://${base}/console`;
}

/** The token from the flag, or from the server's home folder when it is on this machine. */
function tokenOf(flags: ConnectionFlags): string | undefined {
  if (flags.token) return flags.token;
  try {
    return readFileSync(join(flags.home, "console_token"), "utf8").trim() || undefined;
  } catch {
    return undefined;
  }
}

/** Resolves once connected; a refusal or silence becomes a CliError at once (the client does not retry). */
function connected(client: WsRpcClient, target: ConsoleTarget): Promise<void> {
  return new Promise((resolve, reject) => {
    let refusal = "";
    const fail = (why: string, hint: string) => {
      clearTimeout(timer);
      reject(new CliError(`cannot reach the server's console at ${target.url} (from ${target.source}): ${why}`, hint));
    };
    const notRunning = "is the server running? start it with `rpcservice serve`, or point --home or --console at it";
    const timer = setTimeout(() => fail(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`, notRunning), CONNECT_TIMEOUT_MS);
    client.on("warning", (message) => {
      if (/HTTP 40[13]/.test(message)) refusal = message;
    });
    client.on("state", (state, _previous, reason) => {
      if (state === "connected") {
        clearTimeout(timer);
        resolve();
      } else if (state === "disconnected") {
        if (refusal) fail(refusal, "give the console token with --token, or --home of the server (it keeps console_token)");
        else fail(reason || "connection closed", notRunning);
      }
    });
    client.start();
  });
}
