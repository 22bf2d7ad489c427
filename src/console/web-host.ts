/**
 * The console's HTTP server, on fastify: the built page as static files (@fastify/static), WebSocket
 * endpoints by path (@fastify/websocket) and small GET data routes (/metrics). Every request, page or
 * upgrade, passes ONE onRequest hook (`checkRequest`): method, origin, token and stopped-endpoint checks
 * all live there, before any WebSocket exists.
 */
import { resolve } from "node:path";
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from "fastify";
import fastifyStatic from "@fastify/static";
import fastifyWebsocket from "@fastify/websocket";
import type { HostAddress, ListeningSocketHost, SocketTarget } from "../rpc/ws/socket-host.js";
import { ConsoleStartError } from "./errors.js";
import { checkHost } from "./host-check.js";
import { tokenMatches } from "./token.js";

/** Named users' tokens (console_users.json): each token proves a user's name. */
export interface TokenDirectory {
  /** True once any user exists: a token is then required from everyone, on loopback too. */
  readonly any: boolean;
  authenticate(token: string): { readonly name: string } | undefined;
}

/** Who presented the shared token (`console_token`): the operator, as before users existed. */
export const SHARED_TOKEN_IDENTITY = "console";

/** What a data route answers (e.g. /metrics). */
export interface DataResponse {
  readonly contentType: string;
  readonly body: string;
}

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

const SECURITY_HEADERS = {
  "x-content-type-options": "nosniff",
  // The token may sit in the page URL: never send it on to anyone.
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
  "content-security-policy":
    "default-src 'self'; connect-src 'self' ws: wss:; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
};

const PAGE_PATHS = new Set(["/", "/index.html"]);

/** Implements the rpc/ws socket-host seam, so it can also be the own server of a WsEndpoint that has no console. */
export class WebHost implements ListeningSocketHost {
  private readonly options: WebHostOptions;
  private readonly sockets = new Map<string, SocketTarget>();
  private readonly dataRoutes = new Map<string, () => Promise<DataResponse> | DataResponse>();
  private app: FastifyInstance | undefined;
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

  /** Routes WebSocket upgrades on `path` (e.g. "/ws") to `target`. Before `listen`. */
  addRoute(path: string, target: SocketTarget): void {
    this.claim(path);
    this.sockets.set(path, target);
  }

  /** Serves GET `path` from `produce`, with the page's auth rules (token when configured). Before `listen`. */
  addDataRoute(path: string, produce: () => Promise<DataResponse> | DataResponse): void {
    this.claim(path);
    this.dataRoutes.set(path, produce);
  }

  async listen(): Promise<HostAddress> {
    if (this.app) return this.addressValue!;
    const app = await this.build();
    try {
      await app.listen({ host: this.options.host, port: this.options.port });
    } catch (error) {
      await app.close().catch(() => {});
      throw new ConsoleStartError(`cannot listen on ${this.options.host}:${this.options.port}: ${(error as Error).message}`, { cause: error });
    }
    const bound = app.server.address();
    const port = bound !== null && typeof bound === "object" ? bound.port : this.options.port;
    const hostForUrl = this.options.host.includes(":") ? `[${this.options.host}]` : this.options.host;
    this.app = app;
    this.addressValue = { host: this.options.host, port, url: `http://${hostForUrl}:${port}/` };
    return this.addressValue;
  }

  async close(): Promise<void> {
    const app = this.app;
    if (!app) return;
    this.app = undefined;
    this.addressValue = undefined;
    await app.close();
  }

  private claim(path: string): void {
    if (this.app) throw new ConsoleStartError(`routes are added before listen (${path})`);
    if (this.sockets.has(path) || this.dataRoutes.has(path)) throw new ConsoleStartError(`path ${path} already has an endpoint`);
  }

  private async build(): Promise<FastifyInstance> {
    // A new instance per listen: a host can be closed and listen again (an endpoint restarted).
    const app = Fastify({
      logger: false,
      // An idle keep-alive browser connection must not hold close() for minutes.
      keepAliveTimeout: 5_000,
      forceCloseConnections: true,
    });
    const maxPayload = Math.max(1, ...[...this.sockets.values()].map((t) => t.maxPayload));
    await app.register(fastifyWebsocket, { options: { maxPayload, perMessageDeflate: false, clientTracking: false } });
    // Registered after the websocket plugin, so `request.ws` already tells an upgrade from a page request.
    app.addHook("onRequest", (request, reply) => this.checkRequest(request, reply));
    app.addHook("onSend", async (_request, reply, payload) => {
      reply.headers(SECURITY_HEADERS);
      return payload;
    });
    for (const [path, target] of this.sockets) {
      app.get(path, { websocket: true }, (socket, request) => {
        // Checked in onRequest already: here only who it is (a user's name, the shared token's, or nobody).
        const identity = this.identify(request, new URL(request.url, "http://host")) ?? undefined;
        const remote = `${request.socket.remoteAddress ?? "?"}:${request.socket.remotePort ?? "?"}`;
        target.acceptSocket(socket, request.socket, remote, identity);
      });
    }
    for (const [path, produce] of this.dataRoutes) {
      app.get(path, async (_request, reply) => {
        const answer = await produce();
        return reply.type(answer.contentType).header("cache-control", "no-store").send(answer.body);
      });
    }
    const root = this.options.staticRoot;
    if (root !== null) {
      await app.register(fastifyStatic, {
        root: resolve(root),
        cacheControl: false,
        // Vite names assets by content hash: they never change; the page itself always revalidates.
        setHeaders: (reply, file) => reply.header("cache-control", file.endsWith(".html") ? "no-cache" : "public, max-age=31536000, immutable"),
      });
    }
    app.setNotFoundHandler((request, reply) => {
      const path = new URL(request.url, "http://host").pathname;
      if (request.ws) return text(reply, 404, `no WebSocket endpoint at ${path}`);
      if (root === null) return text(reply, 404, "this server has no console page");
      return text(reply, 404, PAGE_PATHS.has(path) ? "console page not built: run `npm run build`" : "not found");
    });
    app.setErrorHandler((error: { statusCode?: number; message: string }, _request, reply) => {
      const status = error.statusCode ?? 500;
      // A path the static files refuse (outside the folder, a bad escape) is simply not there.
      if (status === 403 || status === 404) return text(reply, 404, "not found");
      return text(reply, status >= 400 && status < 500 ? status : 500, `bad request: ${error.message}`);
    });
    return app;
  }

  /**
   * The one place every request is checked, page or upgrade. Checks that apply to all requests (such as a
   * DNS-rebinding Host check) go at the top of this function.
   */
  private async checkRequest(request: FastifyRequest, reply: FastifyReply): Promise<FastifyReply | undefined> {
    // First, before anything looks at the request: a foreign Host is a DNS-rebinding page (see host-check.ts).
    const host = checkHost(request.headers.host, { bindHost: this.options.host, port: this.addressValue?.port ?? this.options.port, allowedHosts: this.options.allowedHosts ?? [] });
    if (!host.ok) return text(reply, 421, host.reason);
    if (request.method !== "GET" && request.method !== "HEAD") return text(reply, 405, "method not allowed");
    const url = new URL(request.url, "http://host");
    const path = url.pathname;
    const target = request.ws ? this.sockets.get(path) : undefined;
    if (request.ws && !target) return text(reply, 404, `no WebSocket endpoint at ${path}`);
    // A browser page from another site must not drive this server through the user's browser (the loopback
    // default has no token to stop it); a same-origin page always passes.
    const origin = request.headers.origin;
    if (origin !== undefined && !sameOrigin(origin, request.headers.host)) {
      return text(reply, 403, `cross-origin request refused (Origin ${origin})`);
    }
    // The page, the sockets and the data need the token; scripts and styles are the same for everyone.
    const guarded = request.ws || PAGE_PATHS.has(path) || this.dataRoutes.has(path);
    if (guarded && !this.authorised(request, url)) {
      if (request.ws) return text(reply, 401, this.presentedToken(request, url) === null ? "token required" : "wrong token");
      return text(reply, 401, "token required: open the console URL printed at start (…/?token=…)");
    }
    if (target && !target.accepting) return text(reply, 503, "endpoint stopped");
    return undefined;
  }

  /** The token a request carries, from `Authorization: Bearer` or `?token=`. */
  private presentedToken(request: FastifyRequest, url: URL): string | null {
    const auth = request.headers.authorization;
    // The scheme is case-insensitive (RFC 7235): "bearer", "BEARER" are the same.
    const match = auth === undefined ? null : /^bearer[ \t]+(.*)$/i.exec(auth);
    if (match) return match[1]!.trim();
    return url.searchParams.get("token");
  }

  private authorised(request: FastifyRequest, url: URL): boolean {
    return this.identify(request, url) !== null;
  }

  /**
   * Who the request proves to be: a user's name, the shared token's identity, undefined when no token is needed
   * and none was given; null when it is refused.
   */
  private identify(request: FastifyRequest, url: URL): string | undefined | null {
    const presented = this.presentedToken(request, url);
    if (presented !== null) {
      if (this.options.token !== null && tokenMatches(this.options.token, presented)) return SHARED_TOKEN_IDENTITY;
      const user = this.options.users?.authenticate(presented);
      if (user) return user.name;
    }
    return this.tokenRequired ? null : undefined;
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

function text(reply: FastifyReply, status: number, message: string): FastifyReply {
  // Upgrade refusals end the connection: the client sees the status and the reason, nothing more to come.
  if (reply.request.ws) reply.header("connection", "close");
  return reply.code(status).type("text/plain; charset=utf-8").send(`${message}\n`);
}
