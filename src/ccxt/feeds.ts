/**
 * Market data of the subscribed symbols: `watchOrderBook` + `watchTicker` where the exchange has WebSocket
 * feeds, else polling `fetchTicker` + `fetchOrderBook`. Each symbol has its own loops; a failed feed is logged
 * once per outage and retried with a growing pause (ccxt reconnects the socket on the next watch).
 */
import type { Exchange, OrderBook, Ticker } from "ccxt";
import { WARNING, type TickData } from "../kernel/index.js";
import { tickFrom } from "./convert.js";

export interface FeedSink {
  tick(tick: TickData): void;
  log(msg: string, level?: number): void;
}

const MAX_BACKOFF_MS = 10_000;

export class MarketFeeds {
  private readonly symbols = new Set<string>();
  private readonly tickers = new Map<string, Ticker>();
  private readonly books = new Map<string, OrderBook>();
  private running = true;
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly exchange: Exchange,
    private readonly gatewayName: string,
    private readonly pollMs: number,
    private readonly sink: FeedSink,
  ) {}

  /** Whether the exchange streams both books and tickers (else the feeds poll). */
  get streaming(): boolean {
    return Boolean(this.exchange.has["watchOrderBook"] && this.exchange.has["watchTicker"]);
  }

  subscribe(symbol: string): void {
    if (this.symbols.has(symbol) || !this.running) return;
    this.symbols.add(symbol);
    if (this.streaming) {
      void this.loop(symbol, "book", async () => this.books.set(symbol, await this.exchange.watchOrderBook(symbol)));
      void this.loop(symbol, "ticker", async () => this.tickers.set(symbol, await this.exchange.watchTicker(symbol)));
    } else {
      void this.loop(symbol, "poll", async () => {
        const [ticker, book] = await Promise.all([this.exchange.fetchTicker(symbol), this.exchange.fetchOrderBook(symbol)]);
        this.tickers.set(symbol, ticker);
        this.books.set(symbol, book);
        await this.sleep(this.pollMs);
      });
    }
  }

  stop(): void {
    this.running = false;
    for (const timer of this.timers) clearTimeout(timer);
    this.timers.clear();
  }

  private async loop(symbol: string, feed: string, step: () => Promise<unknown>): Promise<void> {
    let failures = 0;
    while (this.running) {
      try {
        await step();
        if (!this.running) return;
        if (failures > 0) this.sink.log(`${this.gatewayName} ${feed} feed of ${symbol} is back`);
        failures = 0;
        this.sink.tick(tickFrom(symbol, this.tickers.get(symbol), this.books.get(symbol), this.gatewayName));
      } catch (error) {
        if (!this.running) return;
        if (failures === 0) this.sink.log(`${this.gatewayName} ${feed} feed of ${symbol} failed, retrying: ${(error as Error).message}`, WARNING);
        failures += 1;
        await this.sleep(Math.min(MAX_BACKOFF_MS, 250 * 2 ** Math.min(failures, 6)));
      }
    }
  }

  private sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.timers.delete(timer);
        resolve();
      }, ms);
      this.timers.add(timer);
    });
  }
}
