/**
 * `rpcservice gateways` lists a running server's gateways with their connection state (secrets masked);
 * `rpcservice gateway connect|disconnect NAME` steers one. Through the console endpoint, like `status`.
 */
import type { Command } from "commander";
import type { GatewayStatus } from "../gateways/index.js";
import { connectionOptions, withConsole, type ConnectionFlags } from "./console-connection.js";

function printGateway(g: GatewayStatus): void {
  const since = new Date(g.since).toISOString().replace("T", " ").slice(0, 19);
  console.log(`${g.name.padEnd(12)} ${g.kind.padEnd(6)} ${g.state.padEnd(12)} since ${since}  ${g.reason}`);
  const setting = Object.entries(g.setting).map(([key, value]) => `${key}=${JSON.stringify(value)}`).join(" ");
  if (setting) console.log(`${"".padEnd(12)} ${setting}  (${g.source})`);
}

export function registerGatewayCommands(program: Command): void {
  connectionOptions(program.command("gateways").description("list the server's gateways: kind, connection state and reason, setting (secrets masked)"))
    .action(async (flags: ConnectionFlags) => {
      await withConsole(flags, async (call) => {
        const gateways = await call<GatewayStatus[]>("gateway_list");
        if (gateways.length === 0) console.log("no managed gateways");
        for (const g of gateways) printGateway(g);
      });
    });
  const gateway = program.command("gateway").description("connect or disconnect one gateway of a running server");
  for (const action of ["connect", "disconnect"] as const) {
    connectionOptions(gateway.command(`${action} <name>`).description(`${action} the gateway NAME`))
      .action(async (name: string, flags: ConnectionFlags) => {
        await withConsole(flags, async (call) => {
          const status = await call<GatewayStatus | null>(`gateway_${action}`, [name]);
          if (status) printGateway(status);
        });
      });
  }
}
