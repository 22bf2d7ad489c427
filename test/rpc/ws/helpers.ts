/** Shared pieces of the WebSocket tests: an endpoint on a free loopback port and a raw JSON WebSocket client. */
import { WebSocket } from "ws";
import { Event } from "../../../src/kernel/index.js";
import type { CallDispatcher, PublishedEvent } from "../../../src/rpc/endpoint.js";
import { WsEndpoint, type WsEndpointOptions } from "../../../src/rpc/ws/index.js";
import { WebHost } from "../../../src/console/web-host.js";

export interface RunningEndpoint {
  endpoint: WsEndpoint;
  url: string;
  publish(event: Event): PublishedEvent;
  stop(): Promise<void>;
}

/** A dispatcher with `echo`, `add`, `sleep(ms, value)` and `fail`; anything else is an unknown call. */
export const testDispatcher: CallDispatcher = async (name, args) => {
  switch (name) {
    case "echo":
      return args;
    case "add":
      return (args[0] as number) + (args[1] as number);
    case "sleep":
      await new Promise((resolve) => setTimeout(resolve, args[0] as number));
      return args[1];
    case "fail":
      throw Object.assign(new Error("it failed on purpose"), { code: "ERR_ON_PURPOSE" });
    default:
      throw Object.assign(new Error(`unknown function ${name}`), { code: "UNKNOWN_CALL" });
  }
};

/**
 * A server of the endpoint's own on loopback: the console's HTTP host without a page, so the tests see the
 * request checks (Host, Origin, token) a deployed endpoint is served behind.
 */
export function loopbackServer(port = 0, token: string | null = null): WebHost {
  return new WebHost({ host: "127.0.0.1", port, token, staticRoot: null });
}

export async function startEndpoint(options: WsEndpointOptions = {}, dispatch: CallDispatcher = testDispatcher): Promise<RunningEndpoint> {
  const endpoint = new WsEndpoint({ ...options, server: options.server ?? loopbackServer() });
  await endpoint.start(dispatch);
  let seq = 0;
  const epoch = "test-epoch";
  return {
    endpoint,
    url: `ws://127.0.0.1:${endpoint.address!.port}${endpoint.path}`,
    publish(event) {
      const published = { seq: ++seq, epoch, event };
      endpoint.publish(published);
      return published;
    },
    stop: () => endpoint.stop(),
  };
}

export type Json = Record<string, unknown>;

/** A raw client that collects every JSON message and lets a test wait for one that matches. */
export class RawClient {
  readonly socket: WebSocket;
  readonly messages: Json[] = [];
  closeCode: number | undefined;
  closeReason = "";
  private waiters: { match: (m: Json) => boolean; resolve: (m: Json) => void }[] = [];
  private closeWaiters: (() => void)[] = [];

  private constructor(socket: WebSocket) {
    this.socket = socket;
    socket.on("message", (data) => {
      const message = JSON.parse(data.toString()) as Json;
      this.messages.push(message);
      this.waiters = this.waiters.filter((w) => {
        if (!w.match(message)) return true;
        w.resolve(message);
        return false;
      });
    });
    socket.on("close", (code, reason) => {
      this.closeCode = code;
      this.closeReason = reason.toString();
      for (const w of this.closeWaiters) w();
    });
  }

  static async open(url: string, headers: Record<string, string> = {}): Promise<RawClient> {
    const socket = new WebSocket(url, { headers });
    const client = new RawClient(socket);
    await new Promise<void>((resolve, reject) => {
      socket.once("open", () => resolve());
      socket.once("error", reject);
    });
    await client.next((m) => "hello" in m);
    return client;
  }

  send(message: unknown): void {
    this.socket.send(typeof message === "string" ? message : JSON.stringify(message));
  }

  /** The first message (already received or coming) that matches; rejects after `timeoutMs`. */
  next(match: (m: Json) => boolean, timeoutMs = 5_000): Promise<Json> {
    const found = this.messages.find(match);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`no matching message within ${timeoutMs} ms; got ${JSON.stringify(this.messages.slice(-3))}`)), timeoutMs);
      this.waiters.push({ match, resolve: (m) => (clearTimeout(timer), resolve(m)) });
    });
  }

  reply(id: number | string, timeoutMs?: number): Promise<Json> {
    return this.next((m) => m.id === id && "ok" in m, timeoutMs);
  }

  events(): Json[] {
    return this.messages.filter((m) => "seq" in m);
  }

  closed(timeoutMs = 5_000): Promise<void> {
    if (this.closeCode !== undefined) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("not closed in time")), timeoutMs);
      this.closeWaiters.push(() => (clearTimeout(timer), resolve()));
    });
  }

  close(): void {
    this.socket.terminate();
  }
}

export { until } from "../../helpers/until.js";

export function logEvent(msg: string): Event {
  return new Event("eLog", { msg, gateway_name: "TEST", level: 20 });
}

/** A client-to-server text frame (clients must mask), for tests that drive a raw TCP socket. */
export function maskedTextFrame(text: string): Buffer {
  const payload = Buffer.from(text);
  const mask = Buffer.from([1, 2, 3, 4]);
  const header = payload.length < 126 ? Buffer.from([0x81, 0x80 | payload.length]) : Buffer.from([0x81, 0x80 | 126, payload.length >> 8, payload.length & 255]);
  const masked = Buffer.from(payload.map((b, i) => b ^ mask[i % 4]!));
  return Buffer.concat([header, mask, masked]);
}
