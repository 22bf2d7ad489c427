/**
 * Points every URL of an exchange at one local origin, keeping the original host in the path:
 * `https://fapi.binance.com/fapi/v1` -> `http://127.0.0.1:8443/fapi.binance.com/fapi/v1`,
 * `wss://stream.binance.com:9443/ws` -> `ws://127.0.0.1:8443/stream.binance.com:9443/ws`.
 * Keeping the host tells apart endpoints that share a path on different hosts (spot and futures streams are
 * both `/ws`), and keeps the substrings ccxt itself looks for in a URL (e.g. "/stream").
 */

type UrlTree = string | { [key: string]: UrlTree } | UrlTree[];

export function rewriteUrl(url: string, origin: string): string {
  const match = /^(https?|wss?):\/\/([^/?#]+)(.*)$/.exec(url);
  if (!match) return url;
  const [, scheme, host, rest] = match;
  const target = new URL(origin);
  const secure = target.protocol === "https:";
  const protocol = scheme!.startsWith("ws") ? (secure ? "wss:" : "ws:") : target.protocol;
  return `${protocol}//${target.host}/${host}${rest}`;
}

/** Rewrites every string of a ccxt `urls.api` tree in place. */
export function rewriteUrlTree(tree: UrlTree, origin: string): UrlTree {
  if (typeof tree === "string") return rewriteUrl(tree, origin);
  if (Array.isArray(tree)) return tree.map((item) => rewriteUrlTree(item, origin));
  if (tree !== null && typeof tree === "object") {
    for (const key of Object.keys(tree)) tree[key] = rewriteUrlTree(tree[key]!, origin);
  }
  return tree;
}
