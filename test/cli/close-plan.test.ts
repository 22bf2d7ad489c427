/** Which offsets close a position, by exchange: SHFE/INE today and yesterday apart, T+1 equities, CLOSE elsewhere. */
import { test } from "node:test";
import assert from "node:assert/strict";
import { ContractData, Direction, Exchange, Offset, PositionData, Product } from "../../src/kernel/index.js";
import { planClose } from "../../src/cli/close-plan.js";

const contract = (symbol: string, exchange: Exchange, product = Product.FUTURES) =>
  new ContractData({ gateway_name: "RPC", symbol, exchange, name: symbol, product, size: 10, pricetick: 1 });
const position = (symbol: string, exchange: Exchange, direction: Direction, volume: number, yd_volume: number, frozen = 0) =>
  new PositionData({ gateway_name: "RPC", symbol, exchange, direction, volume, yd_volume, frozen });

test("SHFE: yesterday's volume closes with CLOSEYESTERDAY, today's with CLOSETODAY", () => {
  const plan = planClose(position("rb2701", Exchange.SHFE, Direction.LONG, 5, 2), contract("rb2701", Exchange.SHFE));
  assert.deepEqual(plan.legs, [
    { direction: Direction.SHORT, offset: Offset.CLOSEYESTERDAY, volume: 2 },
    { direction: Direction.SHORT, offset: Offset.CLOSETODAY, volume: 3 },
  ]);
  assert.equal(plan.shortfall, undefined);
});

test("INE: a part of the position takes yesterday's first", () => {
  const plan = planClose(position("sc2702", Exchange.INE, Direction.SHORT, 4, 1), contract("sc2702", Exchange.INE), 3);
  assert.deepEqual(plan.legs, [
    { direction: Direction.LONG, offset: Offset.CLOSEYESTERDAY, volume: 1 },
    { direction: Direction.LONG, offset: Offset.CLOSETODAY, volume: 2 },
  ]);
});

test("other futures exchanges: one CLOSE for any mix of today and yesterday", () => {
  const plan = planClose(position("m2701", Exchange.DCE, Direction.SHORT, 3, 1), contract("m2701", Exchange.DCE));
  assert.deepEqual(plan.legs, [{ direction: Direction.LONG, offset: Offset.CLOSE, volume: 3 }]);
});

test("pending closes are not closed twice, and asking for more says how much can be", () => {
  const plan = planClose(position("rb2701", Exchange.SHFE, Direction.LONG, 5, 0, 3), contract("rb2701", Exchange.SHFE), 4);
  assert.deepEqual(plan.legs, [{ direction: Direction.SHORT, offset: Offset.CLOSETODAY, volume: 2 }]);
  assert.match(plan.shortfall ?? "", /only 2 of rb2701\.SHFE .*pending closes 3/);
});

test("equities: only shares bought before today can be sold (T+1)", () => {
  const plan = planClose(position("600036", Exchange.SSE, Direction.LONG, 300, 100), contract("600036", Exchange.SSE, Product.EQUITY), 300);
  assert.deepEqual(plan.legs, [{ direction: Direction.SHORT, offset: Offset.CLOSE, volume: 100 }]);
  assert.match(plan.shortfall ?? "", /only 100 .*bought today 200 \(T\+1\)/);
});
