/**
 * The console's HTTP server: the built page as static files, and WebSocket upgrades routed by path to
 * endpoints. The Host, token and same-origin checks happen here, before any WebSocket exists.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import { readFile } from "node:fs/promises";
import { extname, join, normalize, resolve, sep } from "node:path";
import type { Duplex } from "node:stream";
import { ConsoleStartError } from "./errors.js";
import { checkHost, type HostVerdict } from "./host-check.js";
import { tokenMatches } from "./token.js";

/** A WebSocket endpoint that accepts connections from the host once the checks passed. */
export interface UpgradeTarget {
  /** False while stopped: upgrades are then refused with 503. */
  readonly accepting: boolean;
  acceptUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, identity: string | undefined): void;
}

/** Named users' tokens (console_users.json): each token proves a user's name. */
export interface TokenDirectory {
  /** True once any user exists: a token is then required from everyone, on loopback too. */
  readonly any: boolean;
  authenticate(token: string): { readonly name: string } | undefined;
}

/** Who presented the shared token (`console_token`): the operator, as before users existed. */
export const SHARED_TOKEN_IDENTITY = "console";

export interface WebHostOptions {
  host: string;
  port: number;
  /** Required from every client when not null (query `?token=` or `Authorization: Bearer`). */
  token: string | null;
  /** Named users, each with a token of their own; accepted beside the shared token. */
  users?: TokenDirectory;
  /** Folder of the built page (index.html + assets/); null serves no page. */
  staticRoot: string | null;
  /** Host names accepted besides the bound address and loopback names (DNS rebinding defence, see host-check.ts). */
  allowedHosts?: readonly string[];
}

export interface HostAddress {
  readonly host: string;
  readonly port: number;
  /** http://host:port/ */
  readonly url: string;
}

const CONTENT_TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
  ".map": "application/json; charset=utf-8",
};

const SECURITY_HEADERS = {
  "X-Content-Type-Options": "nosniff",
  // The token may sit in the page URL: never send it on to anyone.
  "Referrer-Policy": "no-referrer",
  "X-Frame-Options": "DENY",
  "Content-Security-Policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
};

export class WebHost {
  private readonly options: WebHostOptions;
  private readonly routes = new Map<string, UpgradeTarget>();
  private server: Server | undefined;
  private addressValue: HostAddress | undefined;

  constructor(options: WebHostOptions) {
    this.options = options;
  }

  get address(): HostAddress | undefined {
    return this.addressValue;
  }

  get tokenRequired(): boolean {
    return this.options.token !== null || this.options.users?.any === true;
  }

  /** Routes WebSocket upgrades on `path` (e.g. "/ws") to `target`. */
  addRoute(path: string, target: UpgradeTarget): void {
    if (this.routes.has(path)) throw new ConsoleStartError(`path ${path} already has an endpoint`);
    this.routes.set(path, target);
  }

  async listen(): Promise<HostAddress> {
    if (this.server) return this.addressValue!;
    const server = createServer((req, res) => void this.serveHttp(req, res));
    server.on("upgrade", (req: IncomingMessage, socket: Duplex, head: Buffer) => this.upgrade(req, socket, head));
    // An idle keep-alive browser connection must not hold close() for minutes.
    server.keepAliveTimeout = 5_000;
    await new Promise<void>((resolve, reject) => {
      const onError = (error: Error) => reject(new ConsoleStartError(`cannot listen on ${this.options.host}:${this.options.port}: ${error.message}`, { cause: error }));
      server.once("error", onError);
      server.listen(this.options.port, this.options.host, () => {
        server.off("error", onError);
        resolve();
      });
    });
    const bound = server.address();
    const port = bound !== null && typeof bound === "object" ? bound.port : this.options.port;
    const hostForUrl = this.options.host.includes(":") ? `[${this.options.host}]` : this.options.host;
    this.server = server;
    this.addressValue = { host: this.options.host, port, url: `http://${hostForUrl}:${port}/` };
    return this.addressValue;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    this.addressValue = undefined;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  }

  /** The token a request carries, from `Authorization: Bearer` or `?token=`. */
  private presentedToken(req: IncomingMessage, url: URL): string | null {
    const auth = req.headers.authorization;
    // The scheme is case-insensitive (RFC 7235): "bearer", "BEARER" are the same.
    const match = auth === undefined ? null : /^bearer[ \t]+(.*)$/i.exec(auth);
    if (match) return match[1]!.trim();
    return url.searchParams.get("token");
  }

  private authorised(req: IncomingMessage, url: URL): boolean {
    return this.identify(req, url) !== null;
  }

  /**
   * Who the request proves to be: a user's name, the shared token's identity, undefined when no token is needed
   * and none was given; null when it is refused.
   */
  private identify(req: IncomingMessage, url: URL): string | undefined | null {
    const presented = this.presentedToken(req, url);
    if (presented !== null) {
      if (this.options.token !== null && tokenMatches(this.options.token, presented)) return SHARED_TOKEN_IDENTITY;
      const user = this.options.users?.authenticate(presented);
      if (user) return user.name;
    }
    return this.tokenRequired ? null : undefined;
  }

  /** The one Host check, for pages and upgrades alike, before anything else looks at the request. */
  private hostVerdict(req: IncomingMessage): HostVerdict {
    const port = this.addressValue?.port ?? this.options.port;
    return checkHost(req.headers.host, { bindHost: this.options.host, port, allowedHosts: this.options.allowedHosts ?? [] });
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    socket.on("error", () => socket.destroy());
    const host = this.hostVerdict(req);
    if (!host.ok) return refuse(socket, 421, host.reason);
    const url = new URL(req.url ?? "/", "http://host");
    const target = this.routes.get(url.pathname);
    if (!target) return refuse(socket, 404, `no WebSocket endpoint at ${url.pathname}`);
    // A browser always sends Origin: a page from another site must not drive this server through the user's
    // browser (the loopback default has no token to stop it).
    const origin = req.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, req.headers.host)) {
      return refuse(socket, 403, `cross-origin WebSocket refused (Origin ${origin})`);
    }
    const identity = this.identify(req, url);
    if (identity === null) {
      return refuse(socket, 401, this.presentedToken(req, url) === null ? "token required" : "wrong token");
    }
    if (!target.accepting) return refuse(socket, 503, "endpoint stopped");
    target.acceptUpgrade(req, socket, head, identity);
  }

  private async serveHttp(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      const host = this.hostVerdict(req);
      if (!host.ok) return sendText(res, 421, host.reason);
      const url = new URL(req.url ?? "/", "http://host");
      if (req.method !== "GET" && req.method !== "HEAD") return sendText(res, 405, "method not allowed");
      const root = this.options.staticRoot;
      if (root === null) return sendText(res, 404, "this server has no console page");
      const isPage = url.pathname === "/" || url.pathname === "/index.html";
      // The page needs the token; its scripts and styles are the same for everyone and carry no data.
      if (isPage && !this.authorised(req, url)) return sendText(res, 401, "token required: open the console URL printed at start (…/?token=…)");
      const relative = isPage ? "index.html" : decodeURIComponent(url.pathname).replace(/^\/+/, "");
      // Anything that resolves outside the page's folder ("/../../etc/passwd") is simply not there.
      const base = resolve(root);
      const file = normalize(join(base, relative));
      if (!file.startsWith(base + sep)) return sendText(res, 404, "not found");
      let body: Buffer;
      try {
        body = await readFile(file);
      } catch {
        return sendText(res, 404, isPage ? "console page not built: run `npm run build`" : "not found");
      }
      res.writeHead(200, {
        ...SECURITY_HEADERS,
        "Content-Type": CONTENT_TYPES[extname(file)] ?? "application/octet-stream",
        "Content-Length": body.length,
        // Vite names assets by content hash: they never change; the page itself always revalidates.
        "Cache-Control": isPage ? "no-cache" : "public, max-age=31536000, immutable",
      });
      res.end(req.method === "HEAD" ? undefined : body);
    } catch (error) {
      if (!res.headersSent) sendText(res, 400, `bad request: ${(error as Error).message}`);
      else res.destroy();
    }
  }
}

function sameOrigin(origin: string, host: string | undefined): boolean {
  if (host === undefined) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

function sendText(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, "Content-Type": "text/plain; charset=utf-8", "Content-Length": Buffer.byteLength(text) });
  res.end(text);
}

const STATUS_TEXT: Record<number, string> = { 421: "Misdirected Request", 401: "Unauthorized", 403: "Forbidden", 404: "Not Found", 503: "Service Unavailable" };

/** Answers an upgrade request with a plain HTTP error: the client sees the status and the reason. */
function refuse(socket: Duplex, status: number, reason: string): void {
  const body = `${reason}\n`;
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_TEXT[status] ?? "Error"}\r\nConnection: close\r\nContent-Type: text/plain; charset=utf-8\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
