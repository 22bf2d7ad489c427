/**
 * What a trader does from the command line, on a client MainEngine through one gateway: subscribe, place,
 * close and cancel orders, list what the snapshot and stream hold. The flags and the prompt both drive it;
 * a mistake is a CliError, a refusal by the server a printed line.
 */
import {
  Direction,
  OrderRequest,
  OrderType,
  SubscribeRequest,
  displayValue,
  type ContractData,
  type MainEngine,
  type PositionData,
} from "../kernel/index.js";
import { planClose } from "./close-plan.js";
import { CliError } from "./errors.js";
import { accountLine, contractLine, orderLine, positionLine, tradeLine } from "./lines.js";
import type { OrderSpec, OrderStyle } from "./trade-args.js";

export class Trader {
  constructor(
    private readonly mainEngine: MainEngine,
    private readonly gateway: string,
    private readonly print: (line: string) => void,
  ) {}

  async subscribe(vt_symbol: string): Promise<void> {
    const contract = this.contract(vt_symbol);
    await this.mainEngine.subscribe(new SubscribeRequest({ symbol: contract.symbol, exchange: contract.exchange }), this.gateway);
    this.print(`subscribed ${vt_symbol}`);
  }

  async order(direction: Direction, spec: OrderSpec, style: OrderStyle): Promise<void> {
    const contract = this.contract(spec.vt_symbol);
    const type = spec.price === null ? OrderType.MARKET : style.type;
    await this.send(contract, direction, style.offset, type, spec.volume, spec.price ?? 0);
  }

  /** Closes `volume` (default all) of the position in `vt_symbol`, at `price` or at market. */
  async close(vt_symbol: string, volume?: number, price?: number): Promise<void> {
    const contract = this.contract(vt_symbol);
    const held = this.positions().filter((p) => p.vt_symbol === vt_symbol);
    if (held.length === 0) throw new CliError(`no position in ${vt_symbol} to close`, "`positions` lists what is held");
    if (held.length > 1 && volume !== undefined) {
      throw new CliError(`${vt_symbol} is held long and short`, "give no volume to close both, or close one leg with `buy|sell … close`");
    }
    for (const position of held) await this.closePosition(position, contract, volume, price);
  }

  /** Closes every position at market. */
  async flatten(): Promise<void> {
    const held = this.positions();
    if (held.length === 0) return this.print("flat: no positions");
    for (const position of held) await this.closePosition(position, this.contract(position.vt_symbol));
  }

  async cancel(vt_orderid: string): Promise<void> {
    const ids = vt_orderid === "all" ? this.mainEngine.getAllActiveOrders().map((o) => o.vt_orderid) : [vt_orderid];
    for (const id of ids) {
      const order = this.mainEngine.getOrder(id);
      if (!order) throw new CliError(`unknown order ${id}`, "`orders` lists the active ones");
      if (!order.isActive()) throw new CliError(`order ${id} is no longer active (${order.status})`);
      await this.mainEngine.cancelOrder(order.createCancelRequest(), this.gateway);
      this.print(`cancel ${id} requested`);
    }
  }

  listOrders(): void {
    const active = this.mainEngine.getAllActiveOrders();
    if (active.length === 0) this.print("no active orders");
    for (const o of active) this.print(orderLine(o, this.mainEngine.language));
  }

  listPositions(): void {
    const held = this.positions();
    if (held.length === 0) this.print("no positions");
    for (const p of held) this.print(positionLine(p, this.mainEngine.language));
  }

  listTrades(): void {
    const trades = this.mainEngine.getAllTrades();
    if (trades.length === 0) this.print("no trades");
    for (const t of trades) this.print(tradeLine(t, this.mainEngine.language));
  }

  listAccounts(): void {
    for (const a of this.mainEngine.getAllAccounts()) this.print(accountLine(a));
  }

  /** Contracts whose vt_symbol or name matches `pattern` (a substring, or a glob with `*`). */
  listContracts(pattern?: string): void {
    const matches = contractMatcher(pattern);
    const found = this.mainEngine.getAllContracts().filter((c) => matches(c.vt_symbol) || matches(c.name));
    found.sort((a, b) => a.vt_symbol.localeCompare(b.vt_symbol));
    if (found.length === 0) this.print(`no contract matches ${JSON.stringify(pattern ?? "")}`);
    for (const c of found) this.print(contractLine(c, this.mainEngine.language));
  }

  private positions(): PositionData[] {
    return this.mainEngine.getAllPositions().filter((p) => p.volume > 0);
  }

  private contract(vt_symbol: string): ContractData {
    const contract = this.mainEngine.getContract(vt_symbol);
    if (!contract) throw new CliError(`unknown contract ${vt_symbol}`, "`contracts [PATTERN]` lists what the server trades");
    return contract;
  }

  private async closePosition(position: PositionData, contract: ContractData, volume?: number, price?: number): Promise<void> {
    const plan = planClose(position, contract, volume);
    if (plan.shortfall) this.print(`note   ${plan.shortfall}`);
    if (plan.legs.length === 0) throw new CliError(`nothing of ${position.vt_symbol} can be closed now`, "pending close orders hold it: `orders`");
    const type = price === undefined ? OrderType.MARKET : OrderType.LIMIT;
    for (const leg of plan.legs) await this.send(contract, leg.direction, leg.offset, type, leg.volume, price ?? 0);
  }

  private async send(contract: ContractData, direction: Direction, offset: OrderRequest["offset"], type: OrderType, volume: number, price: number): Promise<void> {
    const req = new OrderRequest({ symbol: contract.symbol, exchange: contract.exchange, direction, type, volume, price, offset });
    const vt_orderid = await this.mainEngine.sendOrder(req, this.gateway);
    const language = this.mainEngine.language;
    const what = `${contract.vt_symbol} ${displayValue("Direction", direction, language)} ${displayValue("Offset", offset, language)} ${displayValue("OrderType", type, language)} ${volume}@${type === OrderType.MARKET ? "market" : price}`;
    if (!vt_orderid) throw new CliError(`order ${what} not sent: refused (the log line above says why)`);
    this.print(`sent   ${vt_orderid} ${what}`);
  }
}

function contractMatcher(pattern: string | undefined): (text: string) => boolean {
  if (!pattern) return () => true;
  if (!pattern.includes("*")) {
    const lower = pattern.toLowerCase();
    return (text) => text.toLowerCase().includes(lower);
  }
  const regex = new RegExp(`^${pattern.split("*").map((part) => part.replace(/[.+?^${}()|[\]\\]/g, "\\$&")).join(".*")}$`, "i");
  return (text) => regex.test(text);
}
