/**
 * The client's live stream: one line per event. Without ticks (`--no-ticks`) the stream stays quiet between
 * trades: positions and the account are marked to market on every tick, so their lines are printed only when an
 * order or trade changed them.
 */
import {
  EVENT_ACCOUNT,
  EVENT_LOG,
  EVENT_ORDER,
  EVENT_POSITION,
  EVENT_TICK,
  EVENT_TRADE,
  type EventEngine,
  type Language,
} from "../kernel/index.js";
import { accountLine, orderLine, positionLine, tickLine, tradeLine } from "./lines.js";

export function printStream(engine: EventEngine, print: (line: string) => void, options: { ticks: boolean; language: Language }): void {
  // Without ticks: a position line when what orders and trades change (volume, frozen, average price) changed;
  // an account line when its frozen funds changed or a trade (margin, commission) came since the last one.
  const lastPosition = new Map<string, string>();
  const lastAccountFrozen = new Map<string, number>();
  let tradedSinceAccount = false;

  engine.register(EVENT_LOG, (e) => {
    const log = e.data;
    print(`log    ${log.gateway_name}: ${log.msg}`);
  });
  if (options.ticks) engine.register(EVENT_TICK, (e) => print(tickLine(e.data)));
  engine.register(EVENT_ORDER, (e) => print(orderLine(e.data, options.language)));
  engine.register(EVENT_TRADE, (e) => {
    tradedSinceAccount = true;
    print(tradeLine(e.data, options.language));
  });
  engine.register(EVENT_POSITION, (e) => {
    const p = e.data;
    const key = `${p.volume}|${p.yd_volume}|${p.frozen}|${p.price}`;
    if (!options.ticks && lastPosition.get(p.vt_positionid) === key) return;
    lastPosition.set(p.vt_positionid, key);
    print(positionLine(p, options.language));
  });
  engine.register(EVENT_ACCOUNT, (e) => {
    const a = e.data;
    const changed = tradedSinceAccount || lastAccountFrozen.get(a.vt_accountid) !== a.frozen;
    lastAccountFrozen.set(a.vt_accountid, a.frozen);
    tradedSinceAccount = false;
    if (options.ticks || changed) print(accountLine(a));
  });
}
