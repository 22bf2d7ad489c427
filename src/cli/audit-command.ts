/**
 * `rpcservice audit`: the trail of state-changing and refused calls kept in `<home>/audit.db`.
 *
 *   audit [--since T] [--identity NAME] [--limit N] [--json] [--home DIR]
 *
 * T is a time (2026-12-04T09:30, ISO 8601, local time unless it says otherwise) or an age (90s, 15m, 2h, 3d).
 */
import { userInfo } from "node:os";
import { InvalidArgumentError, type Command } from "commander";
import { AuditTrail, type AuditRow } from "../service/index.js";

const UNITS: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "15m" -> now - 15 min; an ISO time -> that instant. */
export function parseSince(text: string, now = Date.now()): number {
  const age = /^(\d+(?:\.\d+)?)([smhd])$/.exec(text.trim());
  if (age) return now - Number(age[1]) * UNITS[age[2]!]!;
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new InvalidArgumentError("expected a time (2026-12-04T09:30) or an age (90s, 15m, 2h, 3d)");
  return time;
}

function positiveInteger(text: string): number {
  const value = Number(text);
  if (!Number.isInteger(value) || value <= 0) throw new InvalidArgumentError("must be a positive integer");
  return value;
}

/** A row for a change made from the command line (who edits the home folder is its admin). */
export function auditCommandLine(home: string, action: string, args: Record<string, unknown>): void {
  let user = "unknown";
  try {
    user = userInfo().username;
  } catch {
    // no passwd entry (a container): keep "unknown"
  }
  const audit = new AuditTrail(home);
  try {
    audit.append({
      time: Date.now(),
      identity: `cli:${user}`,
      authenticated: false,
      role: "admin",
      endpoint: "cli",
      clientId: `cli:${process.pid}`,
      remoteAddress: "local",
      action,
      args: JSON.stringify(args),
      outcome: "ok",
      detail: "",
    });
  } finally {
    audit.close();
  }
}

function formatRow(row: AuditRow): string {
  const time = new Date(row.time).toISOString().replace("T", " ").replace("Z", "");
  const who = `${row.identity}${row.authenticated ? "" : "?"} (${row.role})`;
  const detail = row.outcome === "ok" ? row.detail : `${row.outcome.toUpperCase()}: ${row.detail}`;
  return `${time}  ${who}  ${row.endpoint} ${row.remoteAddress}  ${row.action} ${row.args}  -> ${detail}`;
}

export function registerAuditCommand(program: Command): void {
  program
    .command("audit")
    .description("show the audit trail: state-changing and refused calls with who, role, endpoint, arguments and outcome")
    .option("--since <time>", "from this time (ISO 8601) or age (15m, 2h, 3d)", (text) => parseSince(text))
    .option("--identity <name>", "only this identity (a key's or console user's name, a declared client name)")
    .option("--limit <n>", "the newest n rows", positiveInteger, 1_000)
    .option("--json", "one JSON object per line")
    .option("--home <dir>", "the server's settings folder", ".rpcservice")
    .addHelpText("after", "\nAn identity shown with a ? was declared by the client, not proven (no CURVE key or console token).")
    .action((flags: { since?: number; identity?: string; limit: number; json?: boolean; home: string }) => {
      const audit = new AuditTrail(flags.home);
      try {
        const rows = audit.query({
          limit: flags.limit,
          ...(flags.since !== undefined ? { since: flags.since } : {}),
          ...(flags.identity !== undefined ? { identity: flags.identity } : {}),
        });
        for (const row of rows) process.stdout.write((flags.json ? JSON.stringify(row) : formatRow(row)) + "\n");
        if (rows.length === 0 && !flags.json) process.stderr.write(`no audit rows in ${audit.path} for this query\n`);
      } finally {
        audit.close();
      }
    });
}
