import { MainEngine, RpcGateway, OrderRequest, Direction, OrderType, Offset, Exchange } from "rpcservice";

const [req = "tcp://127.0.0.1:2014", sub = "tcp://127.0.0.1:4102"] = process.argv.slice(2);
const engine = new MainEngine();
const gateway = engine.addGateway(RpcGateway);
try {
  await engine.connect({ "主动请求地址": req, "推送订阅地址": sub }, "RPC");
  await gateway.ready(10_000); // contracts, accounts, positions, orders and trades are in; rejects if not in 10 s
  const rebar = engine.getAllContracts().find((c) => c.exchange === Exchange.SHFE && c.symbol.startsWith("rb"));
  if (!rebar) throw new Error("the server lists no rebar contract");
  const vt_orderid = await engine.sendOrder(
    new OrderRequest({ symbol: rebar.symbol, exchange: rebar.exchange, direction: Direction.LONG, type: OrderType.LIMIT,
                       volume: 1, price: 3200, offset: Offset.OPEN }),
    "RPC",
  ); // "RPC.1"; "" if the risk manager blocked it
  console.log(vt_orderid ? `sent ${vt_orderid}` : "blocked by the risk manager");
} catch (error) {
  console.error(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
} finally {
  await engine.close();
}
