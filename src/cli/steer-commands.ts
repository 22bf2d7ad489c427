/**
 * Commands that steer a running server through its console endpoint (`ws://<console>/console`):
 * `rpcservice status`, `rpcservice rpc start|stop`, `rpcservice risk list|set|state`.
 */
import { InvalidArgumentError, type Command } from "commander";
import { TRADING_STATES } from "../risk/index.js";
import type { MetricsSample } from "../console/index.js";
import type { NatsStatus } from "../service/index.js";
import { connectionOptions, withConsole, type ConnectionFlags, type ConsoleCall } from "./console-connection.js";
import { CliError, addressHint } from "./errors.js";

interface RuleParameter {
  name: string;
  kind: string;
  label: string;
  value: unknown;
}

interface RuleDescription {
  name: string;
  display_name: string;
  active: boolean;
  parameters: RuleParameter[];
  variables: { name: string; value: unknown }[];
}

interface RpcStatus {
  active: boolean;
  rep_address: string;
  pub_address: string;
  ws_address: string;
  start_error: string;
}

interface ClientRow {
  clientId: string;
  endpoint: string;
  remoteAddress: string;
  identity?: string;
  since: number;
  calls: number;
  eventsBehind: number;
  eventsDropped: number;
  eventsConflated?: number;
  lagMs?: number;
}

function startHint(reason: string): string | undefined {
  if (/already running/.test(reason)) return "stop it first with `rpcservice rpc stop`";
  return addressHint(reason);
}

/** Parses `key=value` into a typed value: numbers, true/false, else the text. */
function parseAssignment(text: string, previous: Record<string, unknown> = {}): Record<string, unknown> {
  const eq = text.indexOf("=");
  if (eq <= 0) throw new InvalidArgumentError(`expected key=value, got ${JSON.stringify(text)}`);
  const key = text.slice(0, eq);
  const raw = text.slice(eq + 1);
  const value = raw === "true" ? true : raw === "false" ? false : raw !== "" && Number.isFinite(Number(raw)) ? Number(raw) : raw;
  return { ...previous, [key]: value };
}

function printRules(rules: RuleDescription[]): void {
  for (const rule of rules) {
    console.log(`${rule.active ? "[on] " : "[off]"} ${rule.name}  (${rule.display_name})`);
    for (const p of rule.parameters) if (p.name !== "active") console.log(`        ${p.name} = ${JSON.stringify(p.value)}    ${p.label}`);
    for (const v of rule.variables) console.log(`        · ${v.name}: ${JSON.stringify(v.value)}`);
  }
}

function printNats(nats: NatsStatus): void {
  console.log(`  nats           ${nats.name} on ${nats.servers.join(",")} (connected to ${nats.connected_to ?? "none"})`);
  const stream = nats.stream;
  if (!stream) {
    console.log(`  stream         unavailable${nats.stream_error ? `: ${nats.stream_error}` : ""}`);
    return;
  }
  const age = stream.maxAge >= 3_600_000 ? `${(stream.maxAge / 3_600_000).toFixed(1)} h` : `${Math.round(stream.maxAge / 1000)} s`;
  console.log(
    `  stream         ${stream.name}: ${stream.messages} messages, ${stream.bytes} bytes, seq ${stream.firstSeq}..${stream.lastSeq}, ` +
      `${stream.consumers} consumers, R${stream.replicas}${stream.leader ? ` led by ${stream.leader}` : ""}, max age ${age}, ` +
      `max ${stream.maxBytes} bytes, ${stream.backlog} unconfirmed`,
  );
}

/** The figures /metrics serves, as `status` prints them: the last interval's rates and percentiles. */
async function printMetrics(call: ConsoleCall): Promise<void> {
  const { latest: m } = await call<{ latest: MetricsSample }>("metrics_summary");
  const ms = (value: number | null): string => (value === null ? "-" : value < 10 ? value.toFixed(2) : value.toFixed(0));
  console.log(`process: cpu ${m.process.cpuPercent.toFixed(0)} %  rss ${(m.process.rssBytes / 2 ** 20).toFixed(0)} MiB  event-loop lag p99 ${ms(m.process.eventLoopLagMs)} ms`);
  console.log(`gateways: ${m.gateways.map((g) => `${g.gateway} ${g.state}`).join(", ") || "none"}`);
  console.log(`orders: ack p50 ${ms(m.orders.ackP50Ms)} / p99 ${ms(m.orders.ackP99Ms)} ms (${m.orders.acks})  first fill p50 ${ms(m.orders.fillP50Ms)} / p99 ${ms(m.orders.fillP99Ms)} ms (${m.orders.fills})`);
  if (m.riskBlocks.length > 0) console.log(`risk blocks: ${m.riskBlocks.map((b) => `${b.rule} ${b.count}`).join(", ")}`);
  console.log(`events/s: ${m.events.filter((e) => e.stream === "rpc").map((e) => `${e.type} ${e.perSecond.toFixed(1)}`).join(", ") || "none"}`);
  console.log(`calls (last ${m.intervalSeconds.toFixed(0)} s):            calls/s    p50 ms    p99 ms     total  errors`);
  for (const c of m.calls) {
    console.log(`  ${`${c.function} @${c.endpoint}`.padEnd(32)} ${c.perSecond.toFixed(1).padStart(8)} ${ms(c.p50Ms).padStart(9)} ${ms(c.p99Ms).padStart(9)} ${String(c.count).padStart(9)} ${String(c.errors).padStart(7)}`);
  }
}

export function registerSteerCommands(program: Command): void {
  connectionOptions(program.command("status").description("show the RPC service, its connected clients and the trading state"))
    .action(async (flags: ConnectionFlags) => {
      await withConsole(flags, async (call) => {
        const status = await call<RpcStatus & { nats?: NatsStatus | null }>("rpc_status");
        const clients = await call<ClientRow[]>("get_clients");
        const state = await call<string | null>("risk_state");
        console.log(`RPC service: ${status.active ? "running" : "stopped"}`);
        console.log(`  request/reply  ${status.rep_address}`);
        console.log(`  broadcast      ${status.pub_address}`);
        if (status.ws_address) console.log(`  websocket      ${status.ws_address}`);
        if (status.nats) printNats(status.nats);
        console.log(`trading state: ${state ?? "no risk manager"}`);
        console.log(`clients: ${clients.length}`);
        for (const c of clients) {
          const since = new Date(c.since).toISOString().replace("T", " ").slice(0, 19);
          console.log(`  ${c.clientId.padEnd(24)} ${c.endpoint.padEnd(8)} ${c.remoteAddress.padEnd(22)} since ${since}  calls ${c.calls}  behind ${c.eventsBehind}  dropped ${c.eventsDropped}${c.eventsConflated ? `  conflated ${c.eventsConflated}` : ""}${c.lagMs ? `  lag ${Math.round(c.lagMs)} ms` : ""}${c.identity ? `  identity ${c.identity}` : ""}`);
        }
        await printMetrics(call);
      });
    });

  const rpc = program.command("rpc").description("start or stop the RPC service of a running server");
  connectionOptions(rpc.command("start").description("start the RPC service (on its saved addresses unless given)"))
    .option("--rep <address>", "request/reply address")
    .option("--pub <address>", "event broadcast address")
    .action(async (flags: ConnectionFlags & { rep?: string; pub?: string }) => {
      await withConsole(flags, async (call) => {
        const status = await call<RpcStatus>("rpc_status");
        const rep = flags.rep ?? status.rep_address;
        const pub = flags.pub ?? status.pub_address;
        if (!(await call<boolean>("rpc_start", [rep, pub]))) {
          const reason = (await call<RpcStatus>("rpc_status")).start_error || "see the server log";
          throw new CliError(`the RPC service did not start on ${rep} / ${pub}: ${reason}`, startHint(reason));
        }
        const bound = await call<RpcStatus>("rpc_status");
        console.log(`RPC service started: request/reply ${bound.rep_address}, broadcast ${bound.pub_address}`);
      });
    });
  connectionOptions(rpc.command("stop").description("stop the RPC service")).action(async (flags: ConnectionFlags) => {
    await withConsole(flags, async (call) => {
      const ok = await call<boolean>("rpc_stop");
      console.log(ok ? "RPC service stopped" : "RPC service was not running");
    });
  });

  const risk = program.command("risk").description("read and change the risk rules of a running server");
  connectionOptions(risk.command("list").description("rules with their switches, parameters and counters")).action(async (flags: ConnectionFlags) => {
    await withConsole(flags, async (call) => printRules(await call<RuleDescription[]>("risk_rules")));
  });
  connectionOptions(
    risk
      .command("set <rule> <assignments...>")
      .description("change a rule at once, e.g. `risk set order_size order_volume_limit=20` or `risk set self_trade active=false`"),
  ).action(async (rule: string, assignments: string[], flags: ConnectionFlags) => {
    const setting = assignments.reduce<Record<string, unknown>>((acc, text) => parseAssignment(text, acc), {});
    await withConsole(flags, async (call) => {
      await call("risk_update_rule", [rule, setting]);
      printRules((await call<RuleDescription[]>("risk_rules")).filter((r) => r.name === rule));
    });
  });
  connectionOptions(
    risk.command("state [state]").description(`show or set the trading state: ${TRADING_STATES.join(", ")} (HALTED: no new orders; REDUCING: closing orders only)`),
  ).action(async (state: string | undefined, flags: ConnectionFlags) => {
    await withConsole(flags, async (call) => {
      const now = state ? await call<string>("risk_set_state", [state.toUpperCase()]) : await call<string | null>("risk_state");
      console.log(`trading state: ${now ?? "no risk manager"}`);
    });
  });
}
