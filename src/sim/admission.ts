/**
 * Whether the venue takes an order, and if not, why: the checks an exchange and a futures broker make, in the
 * order they make them (contract, type, volume, price, position, funds).
 */
import { Direction, Offset, OrderType, type OrderData } from "../kernel/index.js";
import { closeRuleFor, commissionOf, isEquityLike, marginOf, type CloseRule, type MarkPrice, type Portfolio } from "./ledger.js";
import { worstPriceFor } from "./matching.js";
import { memberName, type SimTranslator } from "./messages.js";
import type { Book, ContractModel } from "./model.js";
import type { SimContractSpec } from "./spec.js";
import { dayIndexOf } from "./time.js";

/** Why an order was rejected; also in `order.extra.code`, for programs. */
export type RejectCode =
  | "UNKNOWN_CONTRACT"
  | "UNSUPPORTED_TYPE"
  | "BAD_DIRECTION"
  | "BAD_VOLUME"
  | "BAD_PRICE"
  | "PRICE_OFF_TICK"
  | "PRICE_OUTSIDE_LIMITS"
  | "SHORT_SELLING"
  | "CLOSE_EXCEEDS_POSITION"
  | "INSUFFICIENT_FUNDS";

export type Admission =
  | { readonly ok: false; readonly code: RejectCode; readonly reason: string }
  | { readonly ok: true; readonly legDirection: Direction; readonly opening: true; readonly marginPerLot: number }
  | { readonly ok: true; readonly legDirection: Direction; readonly opening: false; readonly rule: CloseRule };

export interface AdmissionContext {
  readonly now: number;
  readonly portfolio: Portfolio;
  readonly mark: MarkPrice;
  /** The book a market order would walk, for its margin estimate. */
  readonly book: (model: ContractModel) => Book;
  /** The venue's texts, in its gateway's language: a rejection's reason is written in it. */
  readonly t: SimTranslator;
}

const SUPPORTED_TYPES: ReadonlySet<OrderType> = new Set([OrderType.LIMIT, OrderType.MARKET, OrderType.FAK, OrderType.FOK]);
/** Prices are compared in ticks, with this much slack for float representation. */
const PRICE_TOLERANCE = 1e-6;

function reject(code: RejectCode, reason: string): Admission {
  return { ok: false, code, reason };
}

function opposite(direction: Direction): Direction {
  return direction === Direction.LONG ? Direction.SHORT : Direction.LONG;
}

/**
 * Which position leg an order works on, and whether it opens. OPEN and NONE open; equities sell (SHORT with
 * NONE or a close) out of the long leg, since there is no short leg to close.
 */
export function sideOf(spec: SimContractSpec, order: OrderData): { opening: boolean; legDirection: Direction } {
  if (isEquityLike(spec) && order.direction === Direction.SHORT && order.offset === Offset.NONE) {
    return { opening: false, legDirection: Direction.LONG };
  }
  const opening = order.offset === Offset.OPEN || order.offset === Offset.NONE;
  return { opening, legDirection: opening ? order.direction! : opposite(order.direction!) };
}

export function admit(order: OrderData, model: ContractModel | undefined, ctx: AdmissionContext): Admission {
  const t = ctx.t;
  if (!model) return reject("UNKNOWN_CONTRACT", t("unknownContract", { vt_symbol: order.vt_symbol }));
  const spec = model.spec;
  if (!SUPPORTED_TYPES.has(order.type)) {
    return reject("UNSUPPORTED_TYPE", t("unsupportedType", { type: order.type, type_name: memberName("OrderType", order.type) }));
  }
  if (order.direction !== Direction.LONG && order.direction !== Direction.SHORT) {
    return reject("BAD_DIRECTION", t("badDirection", { direction: String(order.direction), direction_name: memberName("Direction", order.direction) }));
  }

  const lots = order.volume / spec.min_volume;
  if (!Number.isFinite(lots) || lots <= 0 || Math.abs(lots - Math.round(lots)) > 1e-9 * Math.max(1, lots)) {
    return reject("BAD_VOLUME", t("badVolume", { volume: order.volume, min_volume: spec.min_volume }));
  }
  if (spec.max_volume !== null && order.volume > spec.max_volume) {
    return reject("BAD_VOLUME", t("volumeAboveMax", { volume: order.volume, max_volume: spec.max_volume }));
  }

  const limits = model.dayLimits(dayIndexOf(ctx.now));
  if (order.type !== OrderType.MARKET) {
    if (!Number.isFinite(order.price)) return reject("BAD_PRICE", t("badPrice", { price: order.price }));
    if (!model.isOnTick(order.price)) {
      return reject("PRICE_OFF_TICK", t("priceOffTick", { price: order.price, pricetick: spec.pricetick }));
    }
    const ticks = order.price / spec.pricetick;
    if (ticks > limits.limit_up / spec.pricetick + PRICE_TOLERANCE || ticks < limits.limit_down / spec.pricetick - PRICE_TOLERANCE) {
      return reject("PRICE_OUTSIDE_LIMITS", t("priceOutsideLimits", { price: order.price, ...limits }));
    }
  }

  if (isEquityLike(spec) && order.direction === Direction.SHORT && order.offset === Offset.OPEN) {
    return reject("SHORT_SELLING", t("shortSelling", { vt_symbol: order.vt_symbol }));
  }
  const { opening, legDirection } = sideOf(spec, order);

  if (!opening) {
    const rule = closeRuleFor(spec, order.offset);
    const leg = ctx.portfolio.peek(order.vt_symbol, legDirection);
    const closable = leg.closable(rule);
    if (order.volume > closable + 1e-9) {
      const offset = order.offset || Offset.CLOSE;
      const detail =
        isEquityLike(spec) && legDirection === Direction.LONG
          ? t("closeDetailTPlusOne")
          : rule === "todayOnly"
            ? t("closeDetailToday", { exchange: spec.exchange })
            : rule === "yesterdayOnly"
              ? t("closeDetailYesterday", { exchange: spec.exchange, offset, offset_name: memberName("Offset", offset) })
              : t("closeDetailAny", { volume: leg.volume, frozen: leg.frozen });
      return reject(
        "CLOSE_EXCEEDS_POSITION",
        t("closeExceeds", {
          volume: order.volume,
          closable: Math.max(0, closable),
          direction: legDirection,
          direction_name: memberName("Direction", legDirection, true),
          detail,
        }),
      );
    }
    return { ok: true, legDirection, opening: false, rule };
  }

  // An open holds margin priced at its limit, or at the worst level a market order would reach.
  let price = order.price;
  if (order.type === OrderType.MARKET) {
    price = worstPriceFor(ctx.book(model), order.direction, order.volume) ?? (order.direction === Direction.LONG ? limits.limit_up : limits.limit_down);
  }
  const marginPerLot = marginOf(spec, price, 1);
  const margin = marginPerLot * order.volume;
  const fee = commissionOf(spec, price, order.volume);
  const available = ctx.portfolio.available(ctx.mark);
  if (margin + fee > available + 1e-6) {
    return reject(
      "INSUFFICIENT_FUNDS",
      t("insufficientFunds", { required: (margin + fee).toFixed(2), margin: margin.toFixed(2), fee: fee.toFixed(2), available: available.toFixed(2) }),
    );
  }
  return { ok: true, legDirection, opening: true, marginPerLot };
}
