/**
 * Per-client limits: calls per second (a token bucket with a burst), calls in flight, and subscriptions. A client
 * is its identity when it has a proven one (a CURVE key, a console user: all its connections share the limits),
 * else its connection (an anonymous loopback client).
 *
 * Over a limit the call is refused at once with a "rate limited" error, never queued: a queue would only hide
 * the overload and grow memory. Because one client can hold at most `calls_in_flight` calls running, the others
 * always find the server with room: that is the fairness between clients.
 *
 * Heavy calls (functions registered `heavy`: a history query, which costs the server a thousand `get_*` calls) also
 * draw on a bucket of their own, as brokers pace historical data requests (Interactive Brokers: 60 per ten minutes):
 * without it one client's stream of queries, each within the call rate, keeps the server's one thread saturated
 * and every other client waits behind its slices of work.
 */
import { rateLimited } from "../rpc/index.js";

export interface ClientLimitSettings {
  /** Sustained calls per second per client (0: unlimited). */
  calls_per_second: number;
  /** Calls a client may make at once above the sustained rate. */
  burst: number;
  /** Calls of one client running at the same time (0: unlimited). */
  calls_in_flight: number;
  /** Distinct subscribe requests per client (0: unlimited). */
  subscriptions: number;
  /** Sustained heavy calls (history queries) per second per client (0: unlimited). */
  heavy_calls_per_second: number;
  /** Heavy calls a client may make at once above their sustained rate (a strategy loading its symbols' history). */
  heavy_burst: number;
}

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimitSettings> = {
  // Generous for a strategy (our RpcClient pipelines far fewer); a flood meets them within a fraction of a second.
  calls_per_second: 2_000,
  burst: 4_000,
  calls_in_flight: 128,
  subscriptions: 2_000,
  // A day of minute bars takes ~1.7 ms to encode alone (bench/codec), plus its generation: 10 a second is a few per
  // cent of the server's thread per client.
  heavy_calls_per_second: 10,
  heavy_burst: 50,
};

/** Parses the `client_limits` setting; unknown or invalid fields keep their default (and are reported). */
export function parseClientLimits(value: unknown, problems: string[] = []): ClientLimitSettings {
  const limits = { ...DEFAULT_CLIENT_LIMITS };
  if (value === undefined) return limits;
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    problems.push("client_limits must be an object");
    return limits;
  }
  for (const [name, raw] of Object.entries(value)) {
    if (!Object.hasOwn(DEFAULT_CLIENT_LIMITS, name)) {
      problems.push(`client_limits.${name} is not a limit (known: ${Object.keys(DEFAULT_CLIENT_LIMITS).join(", ")})`);
      continue;
    }
    if (typeof raw !== "number" || !Number.isFinite(raw) || raw < 0) {
      problems.push(`client_limits.${name} must be a number >= 0`);
      continue;
    }
    limits[name as keyof ClientLimitSettings] = raw;
  }
  return limits;
}

/** A token bucket: `rate` tokens a second, at most `capacity` saved up. */
class Bucket {
  private refilled: number;
  constructor(
    private tokens: number,
    now: number,
  ) {
    this.refilled = now;
  }

  /** Whether a token is there after refilling to `now`. */
  has(now: number, rate: number, capacity: number): boolean {
    this.tokens = Math.min(capacity, this.tokens + ((now - this.refilled) / 1000) * rate);
    this.refilled = now;
    return this.tokens >= 1;
  }

  take(): void {
    this.tokens -= 1;
  }
}

class ClientState {
  readonly calls: Bucket;
  readonly heavyCalls: Bucket;
  inFlight = 0;
  readonly subscriptions = new Set<string>();
  rateLimited = 0;
  lastUsed: number;
  constructor(now: number, settings: ClientLimitSettings) {
    this.calls = new Bucket(Math.max(1, settings.burst), now);
    this.heavyCalls = new Bucket(Math.max(1, settings.heavy_burst), now);
    this.lastUsed = now;
  }
}

/** Held by a call let through; `release` exactly once when it ends. */
export interface LimitTicket {
  release(): void;
}

/** Idle anonymous connections' state is forgotten after this long (they come and go). */
const FORGET_AFTER_MS = 60_000;

export class ClientLimits {
  private settings: ClientLimitSettings;
  private readonly clients = new Map<string, ClientState>();
  private lastSweep = 0;

  /** Settings left out take their default (DEFAULT_CLIENT_LIMITS). */
  constructor(settings: Partial<ClientLimitSettings> = DEFAULT_CLIENT_LIMITS, private readonly now: () => number = Date.now) {
    this.settings = { ...DEFAULT_CLIENT_LIMITS, ...settings };
  }

  get current(): Readonly<ClientLimitSettings> {
    return this.settings;
  }

  /** Settings left out take their default. */
  update(settings: Partial<ClientLimitSettings>): void {
    this.settings = { ...DEFAULT_CLIENT_LIMITS, ...settings };
  }

  /**
   * Admits one call of `client` or throws the rate-limited error. `subscription` names what a subscribe call
   * subscribes to (counted once per distinct name); `heavy`: a heavy call, which also takes a heavy-call token.
   */
  admit(client: string, subscription?: string, heavy = false): LimitTicket {
    const now = this.now();
    this.sweep(now);
    const s = this.settings;
    let state = this.clients.get(client);
    if (!state) {
      state = new ClientState(now, s);
      this.clients.set(client, state);
    }
    state.lastUsed = now;
    const over = this.overLimit(state, now, heavy);
    if (over !== undefined) {
      state.rateLimited++;
      throw rateLimited(over);
    }
    if (subscription !== undefined && s.subscriptions > 0 && !state.subscriptions.has(subscription)) {
      if (state.subscriptions.size >= s.subscriptions) {
        state.rateLimited++;
        throw rateLimited(`more than ${s.subscriptions} subscriptions`);
      }
      state.subscriptions.add(subscription);
    }
    if (s.calls_per_second > 0) state.calls.take();
    if (heavy && s.heavy_calls_per_second > 0) state.heavyCalls.take();
    state.inFlight++;
    const held = state;
    let released = false;
    return {
      release: () => {
        if (released) return;
        released = true;
        held.inFlight--;
      },
    };
  }

  /**
   * The error admit() would throw for `client` now, whatever the call (subscriptions aside), counted as refused;
   * undefined when it would be admitted (nothing is admitted here). Lets a flood be refused before it is decoded.
   */
  refusal(client: string, heavy = false): Error | undefined {
    const state = this.clients.get(client);
    if (!state) return undefined; // a client not seen yet has its whole burst
    const now = this.now();
    const over = this.overLimit(state, now, heavy);
    if (over === undefined) return undefined;
    state.lastUsed = now;
    state.rateLimited++;
    return rateLimited(over);
  }

  /** Why a call of `state`'s client is over a rate or the in-flight limit now (the buckets refilled to `now`). */
  private overLimit(state: ClientState, now: number, heavy: boolean): string | undefined {
    const s = this.settings;
    if (s.calls_per_second > 0 && !state.calls.has(now, s.calls_per_second, Math.max(1, s.burst))) {
      return `more than ${s.calls_per_second} calls per second (burst ${s.burst})`;
    }
    if (heavy && s.heavy_calls_per_second > 0 && !state.heavyCalls.has(now, s.heavy_calls_per_second, Math.max(1, s.heavy_burst))) {
      return `more than ${s.heavy_calls_per_second} heavy calls (history queries) per second (burst ${s.heavy_burst})`;
    }
    if (s.calls_in_flight > 0 && state.inFlight >= s.calls_in_flight) return `${state.inFlight} calls already running (limit ${s.calls_in_flight})`;
    return undefined;
  }

  /** Calls of `client` refused so far (kept while the client is known). */
  rateLimitedCount(client: string): number {
    return this.clients.get(client)?.rateLimited ?? 0;
  }

  inFlight(client: string): number {
    return this.clients.get(client)?.inFlight ?? 0;
  }

  private sweep(now: number): void {
    if (now - this.lastSweep < FORGET_AFTER_MS) return;
    this.lastSweep = now;
    for (const [client, state] of this.clients) {
      if (state.inFlight === 0 && now - state.lastUsed > FORGET_AFTER_MS && client.startsWith("connection:")) this.clients.delete(client);
    }
  }
}
