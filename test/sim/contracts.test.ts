import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, test } from "node:test";
import { EventEngine, Exchange, OptionType, Product, type ContractData } from "../../src/kernel/index.js";
import { SimError } from "../../src/sim/errors.js";
import { SimGateway } from "../../src/sim/gateway.js";
import { ContractModel } from "../../src/sim/model.js";
import { loadContractsFile, parseContractSpecs, specToJson } from "../../src/sim/spec.js";
import { ManualClock } from "../../src/sim/time.js";
import { defaultUniverse } from "../../src/sim/universe.js";
import { T0, tempDir } from "./helpers.js";

/** 1,000 contracts: 100 products × 5 futures months, and 50 option chains of 5 strikes × call/put on them. */
function thousandContracts(): Record<string, unknown>[] {
  const entries: Record<string, unknown>[] = [];
  for (let p = 0; p < 100; p++) {
    for (let m = 1; m <= 5; m++) {
      entries.push({ symbol: `p${p}25${String(m).padStart(2, "0")}`, exchange: "DCE", name: `product ${p}`, product: "FUTURES", size: 10, pricetick: 1, price: 1000 + p * 10 });
    }
  }
  for (let p = 0; p < 50; p++) {
    for (let k = 0; k < 5; k++) {
      for (const type of ["CALL", "PUT"]) {
        const strike = 1000 + p * 10 + (k - 2) * 20;
        entries.push({
          symbol: `p${p}2501-${type[0]}-${strike}`,
          exchange: "DCE",
          product: "OPTION",
          size: 10,
          pricetick: 0.5,
          option_underlying: `p${p}2501.DCE`,
          option_type: type,
          option_strike: strike,
          option_expiry: "2025-12-10",
        });
      }
    }
  }
  return entries;
}

function errorOf(fn: () => unknown): SimError {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof SimError, `expected a SimError, got ${error}`);
    return error;
  }
  assert.fail("expected an error");
}

describe("contracts", () => {
  test("a contracts file of 1,000 contracts loads, and SimGateway publishes every one", async () => {
    const dir = tempDir("contracts");
    const file = join(dir.path, "contracts.json");
    writeFileSync(file, JSON.stringify({ contracts: thousandContracts() }));
    const specs = loadContractsFile(file);
    assert.equal(specs.length, 1000);
    assert.equal(specs.filter((s) => s.option).length, 500);

    const eventEngine = new EventEngine();
    const published: ContractData[] = [];
    eventEngine.register("eContract.", (event) => published.push(event.data));
    const gateway = new SimGateway(eventEngine, "SIM");
    gateway.useClock(new ManualClock(T0));
    gateway.connect({ data_dir: join(dir.path, "venue"), contracts_file: file });
    eventEngine.flush();
    gateway.close();
    dir.remove();
    assert.equal(published.length, 1000);
    const call = published.find((c) => c.symbol === "p12501-C-1010")!;
    assert.equal(call.option_type, OptionType.CALL);
    assert.equal(call.option_underlying, "p12501.DCE");
    assert.equal(call.option_strike, 1010);
    assert.equal(call.option_portfolio, "p");
    assert.equal(call.option_expiry!.toString(), "2025-12-10 00:00:00+08:00");
    assert.equal(call.history_data, true);
  });

  test("a spec survives its JSON form unchanged", () => {
    const all = thousandContracts();
    const specs = parseContractSpecs([...all.slice(0, 5), ...all.slice(500, 510)]);
    assert.deepEqual(parseContractSpecs(specs.map(specToJson)), specs);
  });

  test("entries fill in product defaults, and accept enum names or VeighNa values", () => {
    const [future, stock] = parseContractSpecs([
      { symbol: "x2501", exchange: "SHFE", product: "期货", size: 5, pricetick: 5, price: 20_000 },
      { symbol: "000002", exchange: "SZSE", product: "EQUITY", size: 1, pricetick: 0.01, min_volume: 100, price: 8 },
    ]);
    assert.equal(future!.product, Product.FUTURES);
    assert.deepEqual([future!.margin_rate, future!.commission_rate, future!.limit_pct, future!.name], [0.1, 0.0001, 0.07, "x2501"]);
    assert.deepEqual([stock!.margin_rate, stock!.commission_rate, stock!.limit_pct, stock!.open_interest], [1, 0.0003, 0.1, 0]);
  });

  const invalid: [string, unknown, RegExp][] = [
    ["not a list", { futures: [] }, /expected an array of contracts/],
    ["a missing size", [{ symbol: "a", exchange: "SHFE", pricetick: 1, price: 1 }], /entry 0 \(a\): "size" is required/],
    ["a negative pricetick", [{ symbol: "a", exchange: "SHFE", size: 1, pricetick: -1, price: 1 }], /"pricetick" must be a positive number, got -1/],
    ["an unknown exchange", [{ symbol: "a", exchange: "MOON", size: 1, pricetick: 1, price: 1 }], /"exchange" is not a Exchange: "MOON"/],
    ["a duplicate", [{ symbol: "a", exchange: "SHFE", size: 1, pricetick: 1, price: 1 }, { symbol: "a", exchange: "SHFE", size: 1, pricetick: 1, price: 2 }], /a\.SHFE is listed twice/],
    ["an option without its underlying", [{ symbol: "o", exchange: "DCE", product: "OPTION", size: 1, pricetick: 1, option_underlying: "u.DCE", option_type: "PUT", option_strike: 5, option_expiry: "2025-01-01" }], /option o\.DCE has no underlying u\.DCE/],
    ["an option with a bad expiry", [{ symbol: "o", exchange: "DCE", product: "OPTION", size: 1, pricetick: 1, option_underlying: "u.DCE", option_type: "PUT", option_strike: 5, option_expiry: "soon" }], /"option_expiry" is not an ISO date/],
  ];
  for (const [name, json, message] of invalid) {
    test(`a contracts file with ${name} is refused, naming the entry`, () => {
      const error = errorOf(() => parseContractSpecs(json, "file.json"));
      assert.equal(error.code, "ERR_SIM_CONTRACTS");
      assert.match(error.message, message);
    });
  }

  test("an unreadable or malformed contracts file is a typed error", () => {
    const dir = tempDir("contracts-bad");
    const broken = join(dir.path, "broken.json");
    writeFileSync(broken, "[{");
    assert.match(errorOf(() => loadContractsFile(broken)).message, /is not valid JSON/);
    assert.match(errorOf(() => loadContractsFile(join(dir.path, "missing.json"))).message, /cannot read contracts file/);
    dir.remove();
  });
});

describe("the built-in universe", () => {
  const specs = defaultUniverse(T0, 1);
  const find = (symbol: string) => specs.find((s) => s.symbol === symbol);

  test("lists the next two liquid months of each product, named as each exchange names them", () => {
    for (const symbol of ["rb2505", "rb2510", "cu2503", "cu2504", "au2506", "au2512", "i2505", "i2509", "SR505", "SR509", "IF2503", "IF2504", "sc2503", "sc2504"]) {
      assert.ok(find(symbol), `${symbol} is listed on 2025-03-03`);
    }
    assert.equal(find("rb2505")!.exchange, Exchange.SHFE);
    assert.equal(find("SR505")!.exchange, Exchange.CZCE);
    assert.deepEqual([find("IF2503")!.size, find("IF2503")!.pricetick, find("IF2503")!.margin_rate], [300, 0.2, 0.12]);
  });

  test("has A-shares in board lots of 100 and an IO chain of calls and puts on the front IF month", () => {
    const stock = find("600519")!;
    assert.deepEqual([stock.exchange, stock.size, stock.pricetick, stock.min_volume, stock.product], [Exchange.SSE, 1, 0.01, 100, Product.EQUITY]);
    const options = specs.filter((s) => s.option);
    assert.equal(options.length, 18);
    for (const option of options) {
      assert.equal(option.option!.underlying, "IF2503.CFFEX");
      assert.equal(option.option!.expiry.toString(), "2025-03-21 15:00:00+08:00"); // third Friday
      assert.match(option.symbol, /^IO2503-[CP]-\d+$/);
    }
    const strikes = [...new Set(options.map((o) => o.option!.strike))].sort((a, b) => a - b);
    const ifPrice = new ContractModel(find("IF2503")!, 1).price(T0);
    assert.ok(strikes[0]! < ifPrice && ifPrice < strikes.at(-1)!, "strikes are centred on the simulated IF price");
  });

  test("months of one product move together", () => {
    const near = new ContractModel(find("rb2505")!, 1);
    const far = new ContractModel(find("rb2510")!, 1);
    let product = 0;
    let nearSquares = 0;
    let farSquares = 0;
    for (let i = 0; i < 300; i++) {
      const t = T0 - i * 3_600_000;
      const a = Math.log(near.rawPrice(t + 3_600_000) / near.rawPrice(t));
      const b = Math.log(far.rawPrice(t + 3_600_000) / far.rawPrice(t));
      product += a * b;
      nearSquares += a * a;
      farSquares += b * b;
    }
    assert.ok(product / Math.sqrt(nearSquares * farSquares) > 0.9);
  });
});
