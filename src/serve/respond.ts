/** What every serve route does alike: check the link, answer with a page, or with the 403 page. */
import type { FastifyReply } from "fastify";
import { verifyLink, type LinkClaims, type LinkPurpose } from "../links/token.js";
import type { ServeContext } from "./context.js";
import { pagesOf } from "./pages.js";

/** The link's claims, or null for a forged, tampered or expired one (all answered alike). */
export function checkLink(ctx: ServeContext, token: string, purpose: LinkPurpose): LinkClaims | null {
  const check = verifyLink(ctx.secret, token, purpose, ctx.now().getTime() / 1000);
  return check.ok ? check.claims : null;
}

/** The time stored with what the customer did: UTC, whole seconds (as nowIso). */
export function nowOf(ctx: ServeContext): string {
  return ctx.now().toISOString().slice(0, 19) + "Z";
}

export function shopOf(ctx: ServeContext): { name: string } {
  const from = ctx.config.delivery.from;
  return { name: from.name || from.address.split("@")[1]! };
}

/** Relative paths keep the pages working under any prefix a reverse proxy gives them. */
export function rootFor(depth: number): string {
  return "../".repeat(depth);
}

export function sendPage(
  reply: FastifyReply,
  ctx: ServeContext,
  page: string,
  locale: string | null,
  context: Record<string, unknown>,
  status = 200,
): FastifyReply {
  const { html } = pagesOf(ctx).render(page, locale, { shop: shopOf(ctx), ...context });
  return reply.code(status).type("text/html; charset=utf-8").send(html);
}

/**
 * The answer to a link that does not work (forged, edited, expired, another customer's, a message
 * that is gone): one page, in the shop's language (the customer is unknown), saying what to do, and
 * the same for every cause, so it tells nothing about whom or what a link was for.
 */
export function forbidden(reply: FastifyReply, ctx: ServeContext, depth: number): FastifyReply {
  return sendPage(reply, ctx, "forbidden", null, { root: rootFor(depth) }, 403);
}
