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
import { mkdirSync } from "node:fs";
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

export class SimStore {
  readonly path: string;
  private readonly db: Database.Database;
  private readonly statements: Record<"account" | "order" | "trade" | "position" | "contract", Database.Statement>;
  private readonly writeTransaction: (changes: ChangeSet) => void;

  /** Opens (creating if needed) `dataDir/sim.db`; `":memory:"` keeps nothing. */
  constructor(dataDir: string, options: StoreOptions = {}) {
    try {
      if (dataDir === MEMORY_STORE) this.path = MEMORY_STORE;
      else {
        mkdirSync(dataDir, { recursive: true });
        this.path = join(dataDir, "sim.db");
      }
      this.db = new Database(this.path);
      this.db.pragma("journal_mode = WAL");
      this.db.pragma(`synchronous = ${options.fsync ? "FULL" : "NORMAL"}`);
      this.db.pragma("busy_timeout = 2000");
      this.createSchema();
    } catch (error) {
      if (error instanceof SimError) throw error;
      throw new SimError("ERR_SIM_STORE", `cannot open the venue database in ${dataDir}: ${(error as Error).message}`, { cause: error });
    }
    const db = this.db;
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

  close(): void {
    if (this.db.open) this.db.close();
  }
}
