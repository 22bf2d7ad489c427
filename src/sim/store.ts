/**
 * The venue's journal: account, positions, orders, trades and the specs of traded contracts, in one SQLite file.
 *
 * Every change the venue makes is written in one transaction before anything about it is pushed, so a client
 * never sees a fill that a restart would forget, even after `kill -9`.
 *
 * WAL with synchronous=NORMAL by default: a commit is in the WAL file (the OS page cache) before `write`
 * returns, which survives the process being killed at any point; only an OS crash or power cut can lose the
 * last commits, and in exchange a commit costs no fsync (orders/s are bounded by the CPU, not the disk).
 * `fsync: true` selects synchronous=FULL for machines where that trade-off is wrong.
 */
import { copyFileSync, existsSync, fsyncSync, closeSync, openSync, mkdirSync, renameSync, statSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { SimError } from "./errors.js";
import { parseContractSpec, specToJson, specVtSymbol, type SimContractSpec } from "./spec.js";

const SCHEMA_VERSION = "1";

export interface AccountRow {
  accountid: string;
  capital: number;
  cash: number;
  commission: number;
  realized: number;
  /** Shanghai day index of the last day roll. */
  trading_day: number;
}

/**
 * Enum fields hold the kernel's enum values; datetimes are ISO 8601 with their offset. A rejected order may carry
 * a price or volume that is not a finite number: SQLite has no NaN, so those are NULL.
 */
export interface OrderRow {
  seq: number;
  orderid: string;
  symbol: string;
  exchange: string;
  type: string;
  direction: string;
  offset: string;
  price: number | null;
  volume: number | null;
  traded: number;
  status: string;
  datetime: string;
  reference: string;
  reason: string | null;
  reason_code: string | null;
}

export interface TradeRow {
  seq: number;
  tradeid: string;
  orderid: string;
  symbol: string;
  exchange: string;
  direction: string;
  offset: string;
  price: number;
  volume: number;
  datetime: string;
  commission: number;
}

export interface PositionRow {
  vt_symbol: string;
  direction: string;
  volume: number;
  yd_volume: number;
  price: number;
}

export interface StoredState {
  account: AccountRow | null;
  /** In sequence order. */
  orders: OrderRow[];
  trades: TradeRow[];
  positions: PositionRow[];
  contracts: SimContractSpec[];
}

/** Everything one venue action changed; written atomically. */
export interface ChangeSet {
  account: AccountRow | null;
  orders: Iterable<OrderRow>;
  trades: Iterable<TradeRow>;
  positions: Iterable<PositionRow>;
  contracts: Iterable<SimContractSpec>;
}

export interface StoreOptions {
  /** synchronous=FULL instead of NORMAL: survive power loss too, at one fsync per commit. */
  fsync?: boolean;
}

export const MEMORY_STORE = ":memory:";
export const JOURNAL_FILENAME = "sim.db";
/** The copy of the journal made at each clean shutdown. */
export const BACKUP_SUFFIX = ".bak";

/** How to get out of a journal that cannot be used, for the error text. */
function wayOut(path: string): string {
  return (
    `restore the last good copy (cp ${path}${BACKUP_SUFFIX} ${path}, kept at each clean shutdown), ` +
    `or start with --reset-journal to move it aside and open a new, empty venue`
  );
}

/**
 * Moves a journal (and its WAL files) aside to `sim.db.reset-<time>` so the next open starts a new venue; the old
 * files are kept for inspection. Returns the new name of the journal, or null when there was none.
 */
export function resetJournal(dataDir: string, now: Date = new Date()): string | null {
  const path = join(dataDir, JOURNAL_FILENAME);
  if (!existsSync(path)) return null;
  const aside = `${path}.reset-${now.toISOString().replace(/[:.]/g, "-")}`;
  for (const suffix of ["-wal", "-shm"]) if (existsSync(path + suffix)) renameSync(path + suffix, aside + suffix);
  renameSync(path, aside);
  return aside;
}

export class SimStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements: Record<"account" | "order" | "trade" | "position" | "contract", Database.Statement>;
  private readonly writeTransaction: (changes: ChangeSet) => void;

  /** Opens (creating if needed) `dataDir/sim.db`; `":memory:"` keeps nothing. */
  constructor(dataDir: string, options: StoreOptions = {}) {
    let existed = false;
    const path = dataDir === MEMORY_STORE ? MEMORY_STORE : join(dataDir, JOURNAL_FILENAME);
    this.path = path;
    let db: Database.Database | undefined;
    try {
      if (dataDir !== MEMORY_STORE) {
        mkdirSync(dataDir, { recursive: true });
        existed = existsSync(this.path);
        // SQLite takes a zero-length file for a new database: a truncated journal would silently become an
        // empty venue, every order and trade forgotten.
        if (existed && statSync(this.path).size === 0) {
          throw new SimError("ERR_SIM_STORE", `the venue journal ${this.path} is empty (0 bytes): its orders and trades are lost; ${wayOut(this.path)}`);
        }
      }
      db = new Database(this.path);
      this.db = db;
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${options.fsync ? "FULL" : "NORMAL"}`);
      this.db.pragma("busy_timeout = 2000");
      if (existed) this.checkExisting();
      this.createSchema();
    } catch (error) {
      try {
        if (db?.open) db.close();
      } catch {
        // already failing
      }
      if (error instanceof SimError) throw error;
      throw new SimError("ERR_SIM_STORE", `cannot open the venue journal ${path}: ${(error as Error).message}; ${wayOut(path)}`, {
        cause: error,
      });
    }
    db = this.db;
    this.statements = {
      account: db.prepare(
        `INSERT INTO account (accountid, capital, cash, commission, realized, trading_day)
         VALUES (@accountid, @capital, @cash, @commission, @realized, @trading_day)
         ON CONFLICT (accountid) DO UPDATE SET capital = excluded.capital, cash = excluded.cash,
           commission = excluded.commission, realized = excluded.realized, trading_day = excluded.trading_day`,
      ),
      order: db.prepare(
        `INSERT INTO orders (seq, orderid, symbol, exchange, type, direction, "offset", price, volume, traded, status,
           datetime, reference, reason, reason_code)
         VALUES (@seq, @orderid, @symbol, @exchange, @type, @direction, @offset, @price, @volume, @traded, @status,
           @datetime, @reference, @reason, @reason_code)
         ON CONFLICT (seq) DO UPDATE SET traded = excluded.traded, status = excluded.status,
           reason = excluded.reason, reason_code = excluded.reason_code`,
      ),
      trade: db.prepare(
        `INSERT INTO trades (seq, tradeid, orderid, symbol, exchange, direction, "offset", price, volume, datetime, commission)
         VALUES (@seq, @tradeid, @orderid, @symbol, @exchange, @direction, @offset, @price, @volume, @datetime, @commission)`,
      ),
      position: db.prepare(
        `INSERT INTO positions (vt_symbol, direction, volume, yd_volume, price)
         VALUES (@vt_symbol, @direction, @volume, @yd_volume, @price)
         ON CONFLICT (vt_symbol, direction) DO UPDATE SET volume = excluded.volume, yd_volume = excluded.yd_volume,
           price = excluded.price`,
      ),
      contract: db.prepare(`INSERT OR IGNORE INTO contracts (vt_symbol, spec) VALUES (?, ?)`),
    };
    const s = this.statements;
    this.writeTransaction = db.transaction((changes: ChangeSet) => {
      for (const spec of changes.contracts) s.contract.run(specVtSymbol(spec), JSON.stringify(specToJson(spec)));
      for (const row of changes.orders) s.order.run(row);
      for (const row of changes.trades) s.trade.run(row);
      for (const row of changes.positions) s.position.run(row);
      if (changes.account) s.account.run(changes.account);
    });
  }

  /** An existing file must be an intact journal of ours, not any SQLite file (or a damaged one). */
  private checkExisting(): void {
    const check = this.db.pragma("quick_check", { simple: true });
    if (check !== "ok") throw new SimError("ERR_SIM_STORE", `the venue journal ${this.path} is damaged (${String(check)}); ${wayOut(this.path)}`);
    const meta = this.db.prepare(`SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'meta'`).get();
    if (!meta) throw new SimError("ERR_SIM_STORE", `${this.path} is not a venue journal (no meta table); ${wayOut(this.path)}`);
  }

  private createSchema(): void {
    this.db.exec(`
      CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS account (
        accountid TEXT PRIMARY KEY, capital REAL NOT NULL, cash REAL NOT NULL, commission REAL NOT NULL,
        realized REAL NOT NULL, trading_day INTEGER NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS orders (
        seq INTEGER PRIMARY KEY, orderid TEXT NOT NULL UNIQUE, symbol TEXT NOT NULL, exchange TEXT NOT NULL,
        type TEXT NOT NULL, direction TEXT NOT NULL, "offset" TEXT NOT NULL, price REAL, volume REAL,
        traded REAL NOT NULL, status TEXT NOT NULL, datetime TEXT NOT NULL, reference TEXT NOT NULL,
        reason TEXT, reason_code TEXT) STRICT;
      CREATE TABLE IF NOT EXISTS trades (
        seq INTEGER PRIMARY KEY, tradeid TEXT NOT NULL UNIQUE, orderid TEXT NOT NULL, symbol TEXT NOT NULL,
        exchange TEXT NOT NULL, direction TEXT NOT NULL, "offset" TEXT NOT NULL, price REAL NOT NULL,
        volume REAL NOT NULL, datetime TEXT NOT NULL, commission REAL NOT NULL) STRICT;
      CREATE TABLE IF NOT EXISTS positions (
        vt_symbol TEXT NOT NULL, direction TEXT NOT NULL, volume REAL NOT NULL, yd_volume REAL NOT NULL,
        price REAL NOT NULL, PRIMARY KEY (vt_symbol, direction)) STRICT;
      CREATE TABLE IF NOT EXISTS contracts (vt_symbol TEXT PRIMARY KEY, spec TEXT NOT NULL) STRICT;
    `);
    const row = this.db.prepare(`SELECT value FROM meta WHERE key = 'schema'`).get() as { value: string } | undefined;
    if (!row) this.db.prepare(`INSERT INTO meta (key, value) VALUES ('schema', ?)`).run(SCHEMA_VERSION);
    else if (row.value !== SCHEMA_VERSION) {
      throw new SimError("ERR_SIM_STORE", `${this.path} has schema ${row.value}; this version reads schema ${SCHEMA_VERSION}`);
    }
  }

  load(): StoredState {
    const db = this.db;
    return {
      account: (db.prepare(`SELECT * FROM account LIMIT 1`).get() as AccountRow | undefined) ?? null,
      orders: db.prepare(`SELECT * FROM orders ORDER BY seq`).all() as OrderRow[],
      trades: db.prepare(`SELECT * FROM trades ORDER BY seq`).all() as TradeRow[],
      positions: db.prepare(`SELECT * FROM positions ORDER BY rowid`).all() as PositionRow[],
      contracts: (db.prepare(`SELECT vt_symbol, spec FROM contracts ORDER BY rowid`).all() as { vt_symbol: string; spec: string }[]).map(
        (row) => parseContractSpec(JSON.parse(row.spec), `${this.path}: contract ${row.vt_symbol}`),
      ),
    };
  }

  /** Writes every change of one action in one transaction. */
  write(changes: ChangeSet): void {
    try {
      this.writeTransaction(changes);
    } catch (error) {
      throw new SimError("ERR_SIM_STORE", `cannot write to ${this.path}: ${(error as Error).message}`, { cause: error });
    }
  }

  /**
   * Closes the journal; after a clean close it is copied to `sim.db.bak` (atomically), the copy to restore when
   * the journal is later found damaged.
   */
  close(): void {
    if (!this.db.open) return;
    let clean = false;
    try {
      if (this.path !== MEMORY_STORE) this.db.pragma("wal_checkpoint(TRUNCATE)");
      clean = true;
    } catch {
      // The WAL stays and SQLite replays it at the next open; no backup of an uncheckpointed file.
    }
    this.db.close();
    if (clean && this.path !== MEMORY_STORE) backup(this.path);
  }
}

/** Copies the closed journal to `<path>.bak` through a temp file, so a crash mid-copy never spoils the last good copy. */
function backup(path: string): void {
  const temp = `${path}${BACKUP_SUFFIX}.tmp`;
  try {
    copyFileSync(path, temp);
    const fd = openSync(temp, "r+");
    try {
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(temp, path + BACKUP_SUFFIX);
  } catch {
    // A backup that cannot be written (full disk) must not fail the shutdown; the journal itself is intact.
  }
}
