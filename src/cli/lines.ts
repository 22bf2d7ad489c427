/**
 * One line per trading object, the same in the live stream and in the prompt's listings. Enum values are shown in
 * the client's `--language` (its MainEngine's), passed in: these helpers have no engine of their own.
 */
import {
  displayValue,
  type Language,
  type AccountData,
  type ContractData,
  type OrderData,
  type PositionData,
  type TickData,
  type TradeData,
} from "../kernel/index.js";

/** Enough digits for any price tick, without float noise (3300.0000000001). */
const num = (value: number): string => String(Math.round(value * 1e6) / 1e6);

export const tickLine = (t: TickData): string =>
  `tick   ${t.vt_symbol} last ${num(t.last_price)} bid ${num(t.bid_price_1)}x${t.bid_volume_1} ask ${num(t.ask_price_1)}x${t.ask_volume_1}`;

export const orderLine = (o: OrderData, language: Language): string =>
  `order  ${o.vt_orderid} ${o.vt_symbol} ${displayValue("Direction", o.direction, language)} ${displayValue("Offset", o.offset, language)} ` +
  `${displayValue("OrderType", o.type, language)} ${o.volume}@${num(o.price)} traded ${o.traded} ${displayValue("Status", o.status, language)}`;

export const tradeLine = (t: TradeData, language: Language): string =>
  `trade  ${t.vt_tradeid} ${t.vt_orderid} ${t.vt_symbol} ${displayValue("Direction", t.direction, language)} ${displayValue("Offset", t.offset, language)} ` +
  `${t.volume}@${num(t.price)}${t.datetime ? ` at ${t.datetime.toString().slice(11, 19)}` : ""}`;

export const positionLine = (p: PositionData, language: Language): string =>
  `pos    ${p.vt_symbol} ${displayValue("Direction", p.direction, language)} ${p.volume} (yd ${p.yd_volume}, frozen ${p.frozen}) avg ${num(p.price)} pnl ${num(p.pnl)}`;

export const accountLine = (a: AccountData): string =>
  `acct   ${a.vt_accountid} balance ${num(a.balance)} available ${num(a.available)} frozen ${num(a.frozen)}`;

export const contractLine = (c: ContractData, language: Language): string =>
  `${c.vt_symbol.padEnd(16)} ${c.name.padEnd(10)} ${displayValue("Product", c.product, language).padEnd(8)} size ${c.size} tick ${num(c.pricetick)}`;
