/**
 * The client's live stream: one line per event. Without ticks (`--no-ticks`) the stream stays quiet between
 * trades: positions and the account are marked to market on every tick, so their lines are printed only after
 * an order or trade changed them.
 */
import {
  EVENT_ACCOUNT,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_TICK,
  EVENT_TRADE,
  type AccountData,
  type EventEngine,
  type LogData,
  type OrderData,
  type PositionData,
  type TickData,
  type TradeData,
} from "../kernel/index.js";
import { accountLine, orderLine, positionLine, tickLine, tradeLine } from "./lines.js";

export function printStream(engine: EventEngine, print: (line: string) => void, options: { ticks: boolean }): void {
  // vt_symbols whose position an order or trade touched since its last printed line; the same for the account.
  const touched = new Set<string>();
  let accountTouched = false;
  const touch = (vt_symbol: string): void => {
    touched.add(vt_symbol);
    accountTouched = true;
  };

  engine.register(EVENT_LOG, (e) => {
    const log = e.data as LogData;
    print(`log    ${log.gateway_name}: ${log.msg}`);
  });
  if (options.ticks) engine.register(EVENT_TICK, (e) => print(tickLine(e.data as TickData)));
  engine.register(EVENT_ORDER, (e) => {
    const order = e.data as OrderData;
    touch(order.vt_symbol);
    print(orderLine(order));
  });
  engine.register(EVENT_TRADE, (e) => {
    const trade = e.data as TradeData;
    touch(trade.vt_symbol);
    print(tradeLine(trade));
  });
  engine.register(EVENT_POSITION, (e) => {
    const position = e.data as PositionData;
    if (!options.ticks && !touched.delete(position.vt_symbol)) return;
    print(positionLine(position));
  });
  engine.register(EVENT_ACCOUNT, (e) => {
    if (!options.ticks && !accountTouched) return;
    accountTouched = false;
    print(accountLine(e.data as AccountData));
  });
}
