/**
 * The audit trail: who did what, when, through which endpoint, and what came of it. One append-only SQLite table
 * in `<home>/audit.db` (WAL, synchronous=NORMAL like the simulated venue's journal: each row is its own
 * transaction, committed before the call's reply leaves, so it survives kill -9; triggers refuse UPDATE and
 * DELETE, so the trail cannot be edited through SQL either).
 *
 * It also remembers which identity sent each order, so order ownership survives a server restart.
 */
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";

export const AUDIT_FILENAME = "audit.db";

export type AuditOutcome = "ok" | "error" | "refused";

export interface AuditEntry {
  /** Epoch ms. */
  readonly time: number;
  /** Who: a key's or user's name, a key, a declared client name, else the connection id. */
  readonly identity: string;
  /** True when the transport proved the identity (CURVE key, console token). */
  readonly authenticated: boolean;
  readonly role: string;
  /** "zmq", "ws", "console", "cli"... */
  readonly endpoint: string;
  readonly clientId: string;
  readonly remoteAddress: string;
  /** The call or action: "send_order", "rpc_stop", "keys.revoke"... */
  readonly action: string;
  /** The arguments as JSON text, secrets masked. */
  readonly args: string;
  readonly outcome: AuditOutcome;
  /** The result as JSON text (ok), or the error message (error, refused). */
  readonly detail: string;
  /** The order a send_order created or a cancel_order named. */
  readonly vtOrderid?: string;
}

export interface AuditRow extends AuditEntry {
  readonly id: number;
}

export interface AuditQuery {
  /** Epoch ms, inclusive. */
  since?: number;
  identity?: string;
  /** Newest rows, at most this many (default 1,000), returned oldest first. */
  limit?: number;
}

export class AuditError extends Error {
  readonly code = "ERR_AUDIT";
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = "AuditError";
  }
}

interface DbRow {
  id: number;
  time: number;
  identity: string;
  authenticated: number;
  role: string;
  endpoint: string;
  client_id: string;
  remote_address: string;
  action: string;
  args: string;
  outcome: AuditOutcome;
  detail: string;
  vt_orderid: string | null;
}

export class AuditTrail {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly insert: Database.Statement;
  private readonly owner: Database.Statement;
  private closed = false;

  /** Opens (creating if needed) `<home>/audit.db`. */
  constructor(home: string) {
    this.path = join(home, AUDIT_FILENAME);
    try {
      mkdirSync(home, { recursive: true });
      this.db = new Database(this.path);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma("synchronous = NORMAL");
      this.db.pragma("busy_timeout = 2000");
      this.db.exec(`
        CREATE TABLE IF NOT EXISTS audit (
          id INTEGER PRIMARY KEY AUTOINCREMENT,
          time INTEGER NOT NULL,
          identity TEXT NOT NULL,
          authenticated INTEGER NOT NULL,
          role TEXT NOT NULL,
          endpoint TEXT NOT NULL,
          client_id TEXT NOT NULL,
          remote_address TEXT NOT NULL,
          action TEXT NOT NULL,
          args TEXT NOT NULL,
          outcome TEXT NOT NULL CHECK (outcome IN ('ok', 'error', 'refused')),
          detail TEXT NOT NULL,
          vt_orderid TEXT
        );
        CREATE INDEX IF NOT EXISTS audit_time ON audit (time);
        CREATE INDEX IF NOT EXISTS audit_identity ON audit (identity, time);
        CREATE INDEX IF NOT EXISTS audit_order ON audit (vt_orderid) WHERE vt_orderid IS NOT NULL;
        CREATE TRIGGER IF NOT EXISTS audit_no_update BEFORE UPDATE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
        CREATE TRIGGER IF NOT EXISTS audit_no_delete BEFORE DELETE ON audit
          BEGIN SELECT RAISE(ABORT, 'the audit trail is append-only'); END;
      `);
    } catch (error) {
      throw new AuditError(`cannot open the audit trail ${this.path}: ${(error as Error).message}`, { cause: error });
    }
    this.insert = this.db.prepare(
      `INSERT INTO audit (time, identity, authenticated, role, endpoint, client_id, remote_address, action, args, outcome, detail, vt_orderid)
       VALUES (@time, @identity, @authenticated, @role, @endpoint, @client_id, @remote_address, @action, @args, @outcome, @detail, @vt_orderid)`,
    );
    this.owner = this.db.prepare(
      `SELECT identity, authenticated FROM audit WHERE vt_orderid = ? AND action = 'send_order' AND outcome = 'ok' ORDER BY id DESC LIMIT 1`,
    );
  }

  append(entry: AuditEntry): void {
    if (this.closed) return;
    this.insert.run({
      time: entry.time,
      identity: entry.identity,
      authenticated: entry.authenticated ? 1 : 0,
      role: entry.role,
      endpoint: entry.endpoint,
      client_id: entry.clientId,
      remote_address: entry.remoteAddress,
      action: entry.action,
      args: entry.args,
      outcome: entry.outcome,
      detail: entry.detail,
      vt_orderid: entry.vtOrderid ?? null,
    });
  }

  /** Who sent an order, as recorded when it was accepted (survives restarts). */
  orderOwner(vt_orderid: string): { identity: string; authenticated: boolean } | undefined {
    if (this.closed) return undefined;
    const row = this.owner.get(vt_orderid) as { identity: string; authenticated: number } | undefined;
    return row ? { identity: row.identity, authenticated: row.authenticated === 1 } : undefined;
  }

  query(query: AuditQuery = {}): AuditRow[] {
    const where: string[] = [];
    const params: Record<string, unknown> = { limit: query.limit ?? 1_000 };
    if (query.since !== undefined) {
      where.push("time >= @since");
      params["since"] = query.since;
    }
    if (query.identity !== undefined) {
      where.push("identity = @identity");
      params["identity"] = query.identity;
    }
    const sql = `SELECT * FROM (SELECT * FROM audit ${where.length ? `WHERE ${where.join(" AND ")}` : ""} ORDER BY id DESC LIMIT @limit) ORDER BY id`;
    return (this.db.prepare(sql).all(params) as DbRow[]).map(fromDb);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.db.close();
  }
}

function fromDb(row: DbRow): AuditRow {
  return {
    id: row.id,
    time: row.time,
    identity: row.identity,
    authenticated: row.authenticated === 1,
    role: row.role,
    endpoint: row.endpoint,
    clientId: row.client_id,
    remoteAddress: row.remote_address,
    action: row.action,
    args: row.args,
    outcome: row.outcome,
    detail: row.detail,
    ...(row.vt_orderid !== null ? { vtOrderid: row.vt_orderid } : {}),
  };
}

const SECRET_NAME = /pass(word)?|secret|token|key|auth|密码|口令/i;
const MAX_TEXT = 2_000;

/**
 * Arguments as JSON for the trail: class instances as their fields, values under secret-looking names (password,
 * token, key, 密码...) masked, long text cut.
 */
export function auditText(value: unknown): string {
  let text: string;
  try {
    text = JSON.stringify(value, (name, inner: unknown) => {
      if (name && SECRET_NAME.test(name) && inner !== null && inner !== undefined && inner !== "") return "***";
      if (typeof inner === "bigint") return inner.toString();
      return inner;
    }) ?? "null";
  } catch (error) {
    text = JSON.stringify(`<not serializable: ${(error as Error).message}>`);
  }
  return text.length > MAX_TEXT ? `${text.slice(0, MAX_TEXT)}…` : text;
}
