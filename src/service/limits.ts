/**
 * Per-client limits: calls per second (a token bucket with a burst), calls in flight, and subscriptions. A client
 * is its identity when it has a proven one (a CURVE key, a console user: all its connections share the limits),
 * else its connection (an anonymous loopback client).
 *
 * Over a limit the call is refused at once with a "rate limited" error, never queued: a queue would only hide
 * the overload and grow memory. Because one client can hold at most `calls_in_flight` calls running, the others
 * always find the server with room: that is the fairness between clients.
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
}

export const DEFAULT_CLIENT_LIMITS: Readonly<ClientLimitSettings> = {
  // Generous for a strategy (our RpcClient pipelines far fewer); a flood meets them within a fraction of a second.
  calls_per_second: 2_000,
  burst: 4_000,
  calls_in_flight: 128,
  subscriptions: 2_000,
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

class ClientState {
  tokens: number;
  refilled: number;
  inFlight = 0;
  readonly subscriptions = new Set<string>();
  rateLimited = 0;
  lastUsed: number;
  constructor(now: number, burst: number) {
    this.tokens = burst;
    this.refilled = now;
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

  constructor(settings: ClientLimitSettings = DEFAULT_CLIENT_LIMITS, private readonly now: () => number = Date.now) {
    this.settings = { ...settings };
  }

  get current(): Readonly<ClientLimitSettings> {
    return this.settings;
  }

  update(settings: ClientLimitSettings): void {
    this.settings = { ...settings };
  }

  /**
   * Admits one call of `client` or throws the rate-limited error. `subscription` names what a subscribe call
   * subscribes to (counted once per distinct name).
   */
  admit(client: string, subscription?: string): LimitTicket {
    const now = this.now();
    this.sweep(now);
    const s = this.settings;
    let state = this.clients.get(client);
    if (!state) {
      state = new ClientState(now, Math.max(1, s.burst));
      this.clients.set(client, state);
    }
    state.lastUsed = now;
    const over = this.overLimit(state, now);
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
    if (s.calls_per_second > 0) state.tokens -= 1;
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
  refusal(client: string): Error | undefined {
    const state = this.clients.get(client);
    if (!state) return undefined; // a client not seen yet has its whole burst
    const now = this.now();
    const over = this.overLimit(state, now);
    if (over === undefined) return undefined;
    state.lastUsed = now;
    state.rateLimited++;
    return rateLimited(over);
  }

  /** Why a call of `state`'s client is over the rate or in-flight limit now (the bucket refilled to `now`). */
  private overLimit(state: ClientState, now: number): string | undefined {
    const s = this.settings;
    if (s.calls_per_second > 0) {
      const capacity = Math.max(1, s.burst);
      state.tokens = Math.min(capacity, state.tokens + ((now - state.refilled) / 1000) * s.calls_per_second);
      state.refilled = now;
      if (state.tokens < 1) return `more than ${s.calls_per_second} calls per second (burst ${s.burst})`;
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
