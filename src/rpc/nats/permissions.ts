/**
 * NATS permissions for the three kinds of users of an rpcservice bus, as nats-server's config takes them
 * (`authorization { users: [{ user, password, permissions }] }`). The README prints them; the tests run with them.
 *
 *   server   publishes events, answers calls, writes its stream (its JetStream API), announces its service
 *   trader   calls any function (send_order, cancel_order...) and receives events and stream history
 *   viewer   receives events and history, and calls only the read-only get_* functions
 *
 * `user` is the NATS user these permissions are for: its replies come under its own inbox prefix
 * (`_INBOX.<user>`, which the clients take by default on a user/password login), the only inbox it may read, so
 * no user sees another's replies. `server` is one name or "*" (every server on the bus).
 */
import { inboxPrefixFor, serverPrefix, streamName } from "./subjects.js";

export type NatsRole = "server" | "trader" | "viewer";

export interface NatsPermissions {
  publish: { allow: string[] };
  subscribe: { allow: string[] };
  allow_responses?: boolean;
}

/** The read-only functions a viewer may call (NATS wildcards match whole tokens only, so they are listed). */
export const READ_ONLY_FUNCTIONS: readonly string[] = [
  "get_tick",
  "get_order",
  "get_trade",
  "get_position",
  "get_account",
  "get_contract",
  "get_all_ticks",
  "get_all_orders",
  "get_all_trades",
  "get_all_positions",
  "get_all_accounts",
  "get_all_contracts",
  "get_all_active_orders",
];

/** What a client needs to read a server's stream through an ordered consumer (nats.js 3 against nats-server 2.9+). */
function streamReader(server: string): string[] {
  // Wildcards match whole tokens: every server's stream is "*" (any stream of the account).
  const stream = server === "*" ? "*" : streamName(server);
  return [
    `$JS.API.STREAM.INFO.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}`,
    `$JS.API.CONSUMER.CREATE.${stream}.>`,
    `$JS.API.CONSUMER.MSG.NEXT.${stream}.>`,
    `$JS.API.CONSUMER.INFO.${stream}.>`,
    `$JS.API.CONSUMER.DELETE.${stream}.>`,
  ];
}

export function natsPermissions(role: NatsRole, user: string, server = "*"): NatsPermissions {
  const prefix = serverPrefix(server);
  const inbox = `${inboxPrefixFor(user)}.>`;
  switch (role) {
    case "server":
      return {
        // Replies to callers go out through allow_responses (only to the reply subject of a request received).
        publish: { allow: [`${prefix}.event.>`, "$JS.API.>", "$SRV.>"] },
        subscribe: { allow: [`${prefix}.call.>`, `${prefix}.hello`, "$SRV.>", inbox] },
        allow_responses: true,
      };
    case "trader":
      return {
        publish: { allow: [`${prefix}.call.>`, `${prefix}.hello`, "$SRV.>", ...streamReader(server)] },
        subscribe: { allow: [`${prefix}.event.>`, inbox] },
      };
    case "viewer":
      return {
        publish: { allow: [...READ_ONLY_FUNCTIONS.map((name) => `${prefix}.call.${name}`), `${prefix}.hello`, "$SRV.>", ...streamReader(server)] },
        subscribe: { allow: [`${prefix}.event.>`, inbox] },
      };
  }
}

