/**
 * The metrics seam: what the layers report as they work (calls, events, orders, risk blocks). The kernel and
 * the RPC layer only know this interface; the console's Prometheus recorder implements it. Every method sits
 * on a hot path: an implementation must not allocate per call beyond what it keeps.
 */

export interface MetricsRecorder {
  /** One call finished: `seconds` from arrival to result or error. */
  callFinished(fn: string, endpoint: string, seconds: number, ok: boolean): void;
  /** One event left on a stream ("rpc": the RPC service's, "console": the console's). */
  eventPublished(stream: string, type: string): void;
  /** An order passed the checks and its gateway gave it `vt_orderid`; `sentAt` is `performance.now()` before the gateway call. */
  orderSent(vt_orderid: string, sentAt: number): void;
  /** An order was blocked by the risk rule `rule` ("loading" while the rules load). */
  riskBlocked(rule: string): void;
}

/** Records nothing: the default until an application installs a recorder. */
export const NO_METRICS: MetricsRecorder = Object.freeze({
  callFinished() {},
  eventPublished() {},
  orderSent() {},
  riskBlocked() {},
});
