/**
 * The web server of `comeback serve` (issue 18): fastify with its form-body, security-header,
 * rate-limit and static plugins, and the route groups, each registered by one function from the list
 * below. No inline script or style anywhere (the CSP forbids both); the one style sheet is a static
 * file. Pages and answers are never cached (they carry tokens and a customer's cart).
 */
import Fastify, { type FastifyInstance } from "fastify";
import formbody from "@fastify/formbody";
import helmet from "@fastify/helmet";
import rateLimit from "@fastify/rate-limit";
import fastifyStatic from "@fastify/static";
import type { Logger } from "../log.js";
import type { ServeContext } from "./context.js";
import { pagesOf } from "./pages.js";
import { eventsOf } from "./event-queue.js";
import { registerCartRoutes } from "./routes/cart.js";
import { registerUnsubscribeRoutes } from "./routes/unsubscribe.js";
import { registerTrackRoutes } from "./routes/track.js";

type RouteGroup = (app: FastifyInstance, ctx: ServeContext) => void | Promise<void>;

/** The route groups, each written and tested apart: the cart page and its answers, unsubscribe, tracking. */
const ROUTE_GROUPS: readonly RouteGroup[] = [
  registerCartRoutes,
  registerUnsubscribeRoutes,
  registerTrackRoutes,
];

export interface AppOptions {
  /** Requests per minute and IP before 429 (config serve.rate_limit_per_minute); 0: no limit. */
  rateLimitPerMinute?: number;
  /** Trust X-Forwarded-For from a reverse proxy on this host (config serve.trust_proxy). */
  trustProxy?: boolean;
  log?: Logger;
}

/** Form posts are a few fields: anything bigger is not from our pages. */
const BODY_LIMIT = 16 * 1024;

export async function buildApp(ctx: ServeContext, options: AppOptions = {}): Promise<FastifyInstance> {
  const app = Fastify({
    logger: false,
    bodyLimit: BODY_LIMIT,
    // Behind nginx on the same host: the client's address from X-Forwarded-For, for the rate limit.
    trustProxy: options.trustProxy ? "loopback" : false,
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });
  const pages = pagesOf(ctx);
  await app.register(helmet, {
    contentSecurityPolicy: {
      useDefaults: false,
      directives: {
        defaultSrc: ["'none'"],
        styleSrc: ["'self'"],
        // Product pictures come from the shop's own image host (the products import's image_url).
        imgSrc: ["'self'", "https:"],
        formAction: ["'self'"],
        frameAncestors: ["'none'"],
        baseUri: ["'none'"],
      },
    },
    // Not upgrade-insecure-requests: `comeback demo` serves on http://127.0.0.1.
    crossOriginEmbedderPolicy: false,
  });
  const perMinute = options.rateLimitPerMinute ?? ctx.config.serve.rate_limit_per_minute;
  if (perMinute > 0) await app.register(rateLimit, { max: perMinute, timeWindow: 60_000 });
  await app.register(formbody, { bodyLimit: BODY_LIMIT });
  await app.register(fastifyStatic, {
    root: pages.staticDir,
    prefix: "/static/",
    index: false,
    list: false,
    dotfiles: "deny",
    maxAge: "1h",
  });
  app.addHook("onSend", async (request, reply, payload) => {
    if (!request.url.startsWith("/static/")) reply.header("cache-control", "no-store");
    return payload;
  });
  const log = options.log;
  if (log) {
    // The route's pattern, never the URL: a link token names a message and a customer.
    app.addHook("onResponse", async (request, reply) => {
      log.debug(
        {
          method: request.method,
          route: request.routeOptions.url ?? "(none)",
          status: reply.statusCode,
          ms: Math.round(reply.elapsedTime),
        },
        "request",
      );
    });
  }
  app.setErrorHandler((error: { statusCode?: number; message: string; code?: unknown }, request, reply) => {
    const route = request.routeOptions.url ?? "(none)";
    if (error.code === "SQLITE_BUSY") {
      // The batch held the database longer than busy_timeout (5 s): nothing was written; the answer can
      // simply be sent again.
      log?.warn({ route }, "database busy");
      void reply
        .code(503)
        .header("retry-after", "10")
        .type("text/plain; charset=utf-8")
        .send("We are busy for a moment: please send your answer again in a few seconds.");
      return;
    }
    const status =
      error.statusCode && error.statusCode >= 400 && error.statusCode < 500 ? error.statusCode : 500;
    if (status === 500) log?.error({ route, error: error.message }, "request failed");
    void reply
      .code(status)
      .type("text/plain; charset=utf-8")
      .send(status === 500 ? "Something went wrong. Please try again later." : error.message);
  });
  app.setNotFoundHandler((_request, reply) => {
    void reply.code(404).type("text/plain; charset=utf-8").send("Not found");
  });
  // Views not written yet (the batch held the database) are written before the server lets go of it.
  app.addHook("onClose", async () => eventsOf(ctx).close());
  for (const group of ROUTE_GROUPS) await group(app, ctx);
  return app;
}
