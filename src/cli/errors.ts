/**
 * How a command fails: one `error: …` line on stderr naming what it tried and how to change it, exit code 1,
 * never a stack trace (RPCSERVICE_DEBUG=1 adds it, for bug reports).
 */
import { messageOf } from "../kernel/index.js";

/** A failure the user can act on: what was tried and failed, and (optionally) what to do about it. */
export class CliError extends Error {
  readonly hint: string | undefined;

  constructor(message: string, hint?: string) {
    super(message);
    this.name = "CliError";
    this.hint = hint;
  }
}

/** The one line a failure prints. */
export function formatFailure(error: unknown): string {
  if (error instanceof CliError) return `error: ${error.message}${error.hint ? `; ${error.hint}` : ""}`;
  const message = messageOf(error);
  return `error: ${message.split("\n")[0]}`;
}

/** Prints the failure and sets a non-zero exit code. */
export function reportFailure(error: unknown): void {
  process.stderr.write(formatFailure(error) + "\n");
  if (process.env["RPCSERVICE_DEBUG"] && error instanceof Error && error.stack) process.stderr.write(error.stack + "\n");
  process.exitCode = 1;
}

const ADDRESS_FORMS = "addresses look like tcp://127.0.0.1:2014, tcp://[::1]:2014, tcp://*:2014 or ipc:///tmp/rpc.sock";

/** What to do about a failed bind or connect, from the reason the transport gave; undefined when we cannot tell. */
export function addressHint(reason: string): string | undefined {
  if (/EADDRINUSE/.test(reason)) return "another process uses that address: stop it, or choose another address (--rep/--pub)";
  if (/EADDRNOTAVAIL/.test(reason)) return "that IP address is not one of this machine's: use 127.0.0.1 or a local interface";
  if (/ENOTFOUND|EAI_AGAIN/.test(reason)) return "the host name does not resolve: use an IP address or a name this machine knows";
  if (/EACCES/.test(reason)) return "not allowed: ports below 1024 need privileges, ipc paths need a writable folder";
  if (/malformed endpoint|unsupported transport|missing port|bad port/.test(reason)) return ADDRESS_FORMS;
  return undefined;
}
