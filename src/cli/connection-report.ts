/**
 * The one place that reads RpcGateway's connection states for the client command: prints each change, and while
 * nothing answers, "still trying <address>: no answer for N s" every few seconds, so a dead or wrong address
 * never looks like a quiet market. States other than "connecting" and "disconnected" mean the server answered
 * (whatever further states the gateway grows).
 */
import type { LogData } from "../kernel/index.js";
import type { RpcConnectionStatus } from "../service/index.js";
import { CliError } from "./errors.js";

const WAITING_STATES: ReadonlySet<string> = new Set(["connecting", "disconnected"]);
/** The snapshot's last step, in either log language. */
const SNAPSHOT_DONE: ReadonlySet<string> = new Set(["Trades queried", "成交信息查询成功"]);

export class ConnectionReport {
  private waitingSince: number | null;
  private lastReason = "";
  private answered = false;
  private readonly timer: NodeJS.Timeout;

  constructor(
    private readonly address: string,
    private readonly print: (line: string) => void,
    everyMs = 3_000,
  ) {
    this.waitingSince = Date.now();
    this.timer = setInterval(() => this.remind(), everyMs);
    this.timer.unref();
  }

  /** True once the server has answered at least once. */
  get everConnected(): boolean {
    return this.answered;
  }

  onStatus(status: RpcConnectionStatus): void {
    this.print(`state  ${status.previous} -> ${status.state} (${status.reason})`);
    if (WAITING_STATES.has(status.state)) {
      this.waitingSince ??= Date.now();
      if (status.state === "disconnected") this.lastReason = status.reason;
    } else {
      this.answered = true;
      this.waitingSince = null;
      this.lastReason = "";
    }
  }

  /** True for the log line that ends the gateway's snapshot. */
  isSnapshotDone(log: LogData): boolean {
    return SNAPSHOT_DONE.has(log.msg);
  }

  /** What to say at exit when the server never answered. */
  neverConnected(): CliError {
    if (this.lastReason) return new CliError(`never connected to ${this.address}: ${this.lastReason}`);
    return new CliError(`never connected to ${this.address}: no answer`, "is the server running, and are --req/--sub its addresses (`rpcservice serve` prints them)?");
  }

  close(): void {
    clearInterval(this.timer);
  }

  private remind(): void {
    if (this.waitingSince === null) return;
    const seconds = Math.round((Date.now() - this.waitingSince) / 1000);
    this.print(`still trying ${this.address}: no answer for ${seconds} s${this.lastReason ? ` (last: ${this.lastReason})` : ""}`);
  }
}
