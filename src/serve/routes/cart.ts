/**
 * The cart page and the customer's answers (issue 18):
 *
 *   GET  /c/:token         the cart: items, pictures, quantities, total; "not now" per item; the wishlist
 *   POST /c/:token         action=update (recount the total) or action=confirm (the reorder request);
 *                          fields qty_N (0–99) and remove_N (a checkbox) per item, csrf
 *   POST /c/:token/later   later_N = 1 | 2 | 4 | never per item (empty: keep it in the cart), csrf
 *
 * Every request checks the signed link (purpose `cart`) and that its message is that customer's cart;
 * every POST also the form token of the page it came from (src/serve/csrf.ts).
 */
import type { FastifyInstance, FastifyReply } from "fastify";
import { applyEdits, keptTotals, openCart, type OpenedCart, type PageItem } from "../../answers/cart.js";
import { postponeChoices, postponeItems, wishlistOf } from "../../answers/postpone.js";
import { confirmCart, reorderSummary } from "../../answers/reorders.js";
import { greetingName } from "../../deliver/message.js";
import { DataError } from "../../errors.js";
import { signLink, type LinkClaims } from "../../links/token.js";
import { dayString, localDayOf } from "../../plan/days.js";
import { machineReason } from "../../track/machine.js";
import type { ServeContext } from "../context.js";
import { checkFormToken, formToken } from "../csrf.js";
import { eventsOf } from "../event-queue.js";
import { checkLink, forbidden, nowOf, rootFor, sendPage } from "../respond.js";

type Form = Record<string, unknown>;
type Notice = "updated" | "nothing_kept" | "choose";

interface Opened {
  claims: LinkClaims;
  cart: OpenedCart;
}

function open(ctx: ServeContext, token: string): Opened | null {
  const claims = checkLink(ctx, token, "cart");
  if (!claims) return null;
  const cart = openCart(ctx.db, claims.outboxId, claims.customerId);
  return cart ? { claims, cart } : null;
}

function today(ctx: ServeContext): string {
  return dayString(localDayOf(nowOf(ctx), ctx.config.timezone));
}

/** The unsubscribe page of the same message, as long as the cart link works. */
function unsubscribePath(ctx: ServeContext, claims: LinkClaims, depth: number): string {
  return `${rootFor(depth)}u/${signLink(ctx.secret, { ...claims, purpose: "unsub" })}`;
}

function common(ctx: ServeContext, opened: Opened, token: string, depth: number) {
  const { cart, claims } = opened;
  return {
    root: rootFor(depth),
    token,
    greeting_name: greetingName(cart.customer),
    week: cart.week,
    wishlist: wishlistOf(ctx.db, cart.customer.id, today(ctx)),
    unsubscribe_url: unsubscribePath(ctx, claims, depth),
  };
}

function cartPage(
  reply: FastifyReply,
  ctx: ServeContext,
  opened: Opened,
  token: string,
  items: readonly PageItem[],
  notice: Notice | null,
  depth = 1,
): FastifyReply {
  const { cart } = opened;
  if (cart.reorder) return confirmedPage(reply, ctx, opened, token, cart.reorder.id, depth);
  const totals = keptTotals(items);
  return sendPage(reply, ctx, "cart", cart.customer.locale, {
    ...common(ctx, opened, token, depth),
    items: items.map((item) => ({ ...item, removed: item.quantity === 0 })),
    kept: items.some((item) => item.quantity > 0),
    ...totals,
    postponed: cart.postponed,
    csrf: { cart: formToken(ctx.secret, token, "cart"), later: formToken(ctx.secret, token, "later") },
    [`notice_${notice}`]: notice !== null,
  });
}

function confirmedPage(
  reply: FastifyReply,
  ctx: ServeContext,
  opened: Opened,
  token: string,
  reorderId: number,
  depth: number,
): FastifyReply {
  const reorder = reorderSummary(ctx.db, reorderId)!;
  return sendPage(reply, ctx, "confirmed", opened.cart.customer.locale, {
    ...common(ctx, opened, token, depth),
    reorder: { ...reorder, created_on: reorder.created_at.slice(0, 10) },
  });
}

export function registerCartRoutes(app: FastifyInstance, ctx: ServeContext): void {
  const sentAtOf = ctx.db.prepare<[number], string | null>("SELECT sent_at FROM outbox WHERE id = ?").pluck();
  app.get<{ Params: { token: string } }>("/c/:token", async (request, reply) => {
    const { token } = request.params;
    const opened = open(ctx, token);
    if (!opened) return forbidden(reply, ctx, 1);
    // A link scanner follows the click redirect to this page: the same rule as for the click, or
    // the report would count a scanner's visit as a person's open and cart view. The view never
    // waits for the batch (event-queue.ts).
    const at = nowOf(ctx);
    const reason = machineReason({
      kind: "click",
      userAgent: request.headers["user-agent"],
      method: request.method,
      sentAt: sentAtOf.get(opened.claims.outboxId) ?? null,
      at,
    });
    eventsOf(ctx).add({
      outboxId: opened.claims.outboxId,
      customerId: opened.claims.customerId,
      kind: "cart_viewed",
      at,
      machine: reason !== null,
      ...(reason === null ? {} : { detail: { machine: reason } }),
    });
    return cartPage(reply, ctx, opened, token, opened.cart.items, null);
  });

  app.post<{ Params: { token: string }; Body: Form | undefined }>("/c/:token", async (request, reply) => {
    const { token } = request.params;
    const opened = open(ctx, token);
    const form = request.body ?? {};
    if (!opened || !checkFormToken(ctx.secret, token, "cart", form.csrf)) return forbidden(reply, ctx, 1);
    const items = applyEdits(opened.cart.items, form);
    if (opened.cart.reorder || form.action !== "confirm") {
      return cartPage(reply, ctx, opened, token, items, "updated");
    }
    try {
      const result = confirmCart(ctx.db, opened.cart, items, {
        now: nowOf(ctx),
        operator: ctx.config.operator.email?.address ?? null,
      });
      return confirmedPage(reply, ctx, opened, token, result.reorderId, 1);
    } catch (error) {
      if (error instanceof DataError) return cartPage(reply, ctx, opened, token, items, "nothing_kept");
      throw error;
    }
  });

  app.post<{ Params: { token: string }; Body: Form | undefined }>(
    "/c/:token/later",
    async (request, reply) => {
      const { token } = request.params;
      const opened = open(ctx, token);
      const form = request.body ?? {};
      if (!opened || !checkFormToken(ctx.secret, token, "later", form.csrf)) return forbidden(reply, ctx, 2);
      if (opened.cart.reorder) return confirmedPage(reply, ctx, opened, token, opened.cart.reorder.id, 2);
      const answers = postponeChoices(opened.cart.items, form);
      if (answers.length === 0) return cartPage(reply, ctx, opened, token, opened.cart.items, "choose", 2);
      const postponed = postponeItems(ctx.db, opened.cart, answers, { now: nowOf(ctx), today: today(ctx) });
      const left = opened.cart.items.length - postponed.length;
      return sendPage(reply, ctx, "postponed", opened.cart.customer.locale, {
        ...common(ctx, opened, token, 2),
        postponed,
        left,
      });
    },
  );
}
