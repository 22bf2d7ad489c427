/**
 * Two adjustments to a ccxt exchange instance, so that a gateway's close leaves nothing behind in the process.
 *
 * Futures: ccxt's WebSocket clients keep a future per message hash. Some of them are created ahead for callers that may
 * never come (Binance's spot user-data subscription creates one "for concurrent callers"), and when the socket
 * fails ccxt rejects every future of the client: one nobody awaits is then an unhandled rejection, which ends a
 * Node process. Marking each future handled as ccxt creates it changes nothing for those that are awaited
 * (they still reject for their callers, our stream loops among them); the rest fail quietly.
 */
import type { Exchange } from "ccxt";

interface FutureMaker {
  future(messageHash: string): Promise<unknown>;
  reusableFuture?(messageHash: string): Promise<unknown>;
}

const QUIETED = Symbol("rpcservice.quieted");

export function quietUnawaitedFutures(exchange: Exchange): void {
  const target = exchange as unknown as { client(url: string): FutureMaker };
  const original = target.client.bind(exchange);
  target.client = (url: string): FutureMaker => {
    const client = original(url) as FutureMaker & { [QUIETED]?: boolean };
    if (!client[QUIETED]) {
      client[QUIETED] = true;
      for (const method of ["future", "reusableFuture"] as const) {
        const make = client[method]?.bind(client);
        if (!make) continue;
        client[method] = (messageHash: string) => {
          const future = make(messageHash);
          future.catch(() => undefined);
          return future;
        };
      }
    }
    return client;
  };
}

/**
 * ccxt schedules some calls with a plain, uncancellable `setTimeout` (`exchange.delay`: Binance renews its
 * futures listenKey every 20 minutes this way) and `close()` does not cancel them: a closed exchange would keep
 * the process alive and call the exchange later. Tracks them; the returned function cancels those still pending.
 */
export function trackDelayedCalls(exchange: Exchange): () => void {
  const pending = new Set<NodeJS.Timeout>();
  const target = exchange as unknown as { delay(timeout: number, method: unknown, ...args: unknown[]): void; spawn(method: unknown, ...args: unknown[]): unknown };
  target.delay = (timeout: number, method: unknown, ...args: unknown[]): void => {
    const timer = setTimeout(() => {
      pending.delete(timer);
      target.spawn(method, ...args);
    }, timeout);
    pending.add(timer);
  };
  return () => {
    for (const timer of pending) clearTimeout(timer);
    pending.clear();
  };
}
