/**
 * Roles and permissions: the one table that says who may do what, on every endpoint (ZeroMQ, WebSocket, the
 * console, any endpoint added through the seam).
 *
 * - viewer: reads (get_*, query_history), subscribes, receives events; no order entry, no cancels.
 * - trader: a viewer that sends orders and cancels its own (the default for a named key and for loopback clients
 *   without CURVE, so `npm start` and VeighNa clients work as before).
 * - admin: a trader that cancels anyone's orders and runs the server: risk settings and trading state (the kill
 *   switch), RPC start/stop, gateway connect, the audit trail.
 *
 * A call not in the table needs `admin`: a function added later is closed until someone decides otherwise.
 */

export const ROLES = ["viewer", "trader", "admin"] as const;
export type Role = (typeof ROLES)[number];

export const PERMISSIONS = ["read", "subscribe", "trade", "cancel_any", "risk", "service", "gateway", "audit"] as const;
export type Permission = (typeof PERMISSIONS)[number];

const GRANTS: Readonly<Record<Role, ReadonlySet<Permission>>> = {
  viewer: new Set<Permission>(["read", "subscribe"]),
  trader: new Set<Permission>(["read", "subscribe", "trade"]),
  admin: new Set<Permission>(PERMISSIONS),
};

/** What each call needs. VeighNa's 17 functions, then the console's management calls. */
const CALLS: Record<string, Permission> = {
  subscribe: "subscribe",
  send_order: "trade",
  // Its own orders only; cancelling another client's needs cancel_any (checked against the order's owner).
  cancel_order: "trade",
  query_history: "read",
  get_tick: "read",
  get_order: "read",
  get_trade: "read",
  get_position: "read",
  get_account: "read",
  get_contract: "read",
  get_all_ticks: "read",
  get_all_orders: "read",
  get_all_trades: "read",
  get_all_positions: "read",
  get_all_accounts: "read",
  get_all_contracts: "read",
  get_all_active_orders: "read",
  get_all_gateway_names: "read",
  console_info: "read",
  whoami: "read",
  get_logs: "read",
  rpc_status: "read",
  get_clients: "read",
  risk_rules: "read",
  risk_state: "read",
  risk_update_rule: "risk",
  risk_set_state: "risk",
  rpc_start: "service",
  rpc_stop: "service",
  // Secrets are masked in the list; connecting or disconnecting a venue is an admin's.
  gateway_list: "read",
  gateway_connect: "gateway",
  gateway_disconnect: "gateway",
  audit_query: "audit",
};

/** Calls that change something: each is written to the audit trail with its outcome. */
const STATE_CHANGING = new Set([
  "send_order",
  "cancel_order",
  "risk_update_rule",
  "risk_set_state",
  "rpc_start",
  "rpc_stop",
  "gateway_connect",
  "gateway_disconnect",
]);

/**
 * Declares what a function registered beyond the built-in ones needs (e.g. an app's own RPC function), so it is
 * not admin-only. Declared functions count as reads unless `stateChanging` (then each call is audited).
 */
export function definePermission(call: string, permission: Permission, options: { stateChanging?: boolean } = {}): void {
  CALLS[call] = permission;
  if (options.stateChanging) STATE_CHANGING.add(call);
}

export function isRole(value: unknown): value is Role {
  return typeof value === "string" && (ROLES as readonly string[]).includes(value);
}

/** The permission a call needs ("gateway"-level admin for anything unknown). */
export function permissionFor(call: string): Permission | "admin" {
  return Object.hasOwn(CALLS, call) ? CALLS[call]! : "admin";
}

export function roleAllows(role: Role, permission: Permission | "admin"): boolean {
  return permission === "admin" ? role === "admin" : GRANTS[role].has(permission);
}

/** Every permission a role has (what a page shows or hides). */
export function permissionsOf(role: Role): Permission[] {
  return PERMISSIONS.filter((permission) => GRANTS[role].has(permission));
}

export function isStateChanging(call: string): boolean {
  return STATE_CHANGING.has(call) || !Object.hasOwn(CALLS, call);
}
