/**
 * Unsubscribing (issue 18), at the address the emails' List-Unsubscribe header names:
 *
 *   GET  /u/:token   a page with one button (a POST with the page's form token)
 *   POST /u/:token   the button; or RFC 8058 one-click from the mail client: the body
 *                    `List-Unsubscribe=One-Click` (form-urlencoded or multipart), no cookie, no page:
 *                    200 with a short plain-text answer
 *
 * Both suppress the message's recipient at once. The signed link (purpose `unsub`) is what authorises
 * the one-click POST, as RFC 8058 intends; GET never changes anything (link scanners fetch it).
 */
import type { FastifyInstance } from "fastify";
import { unsubscribeRecipient } from "../../answers/unsubscribe.js";
import type { ServeContext } from "../context.js";
import { checkFormToken, formToken } from "../csrf.js";
import { checkLink, forbidden, nowOf, rootFor, sendPage } from "../respond.js";

type Form = Record<string, unknown>;

/** The one field RFC 8058 asks for, from a multipart/form-data body (there is no multipart plugin here). */
export function oneClickField(body: string): string | null {
  const match =
    /content-disposition:\s*form-data;\s*name="?List-Unsubscribe"?\s*\r?\n(?:[^\r\n]+\r?\n)*\r?\n([^\r\n]*)/i.exec(
      body,
    );
  return match ? match[1]!.trim() : null;
}

function localeOf(ctx: ServeContext, customerId: number): string | null {
  return (
    ctx.db
      .prepare<[number], string | null>("SELECT locale FROM customers WHERE id = ?")
      .pluck()
      .get(customerId) ?? null
  );
}

export async function registerUnsubscribeRoutes(app: FastifyInstance, ctx: ServeContext): Promise<void> {
  await app.register(async (scope) => {
    // Only here: multipart is what RFC 8058's own example posts.
    scope.addContentTypeParser(
      "multipart/form-data",
      { parseAs: "string", bodyLimit: 4096 },
      (_req, body, done) => {
        done(null, { "List-Unsubscribe": oneClickField(String(body)) });
      },
    );

    scope.get<{ Params: { token: string } }>("/u/:token", async (request, reply) => {
      const { token } = request.params;
      const claims = checkLink(ctx, token, "unsub");
      if (!claims) return forbidden(reply, ctx, 1);
      const owner = ctx.db
        .prepare<[number], number | null>("SELECT customer_id FROM outbox WHERE id = ? AND marketing = 1")
        .pluck()
        .get(claims.outboxId);
      if (owner !== claims.customerId) return forbidden(reply, ctx, 1);
      return sendPage(reply, ctx, "unsubscribe", localeOf(ctx, claims.customerId), {
        root: rootFor(1),
        token,
        csrf: formToken(ctx.secret, token, "unsub"),
      });
    });

    scope.post<{ Params: { token: string }; Body: Form | undefined }>("/u/:token", async (request, reply) => {
      const { token } = request.params;
      const form = request.body ?? {};
      const claims = checkLink(ctx, token, "unsub");
      const oneClick = form["List-Unsubscribe"] === "One-Click";
      if (!claims || (!oneClick && !checkFormToken(ctx.secret, token, "unsub", form.csrf))) {
        return oneClick
          ? reply.code(403).type("text/plain; charset=utf-8").send("This link does not work.")
          : forbidden(reply, ctx, 1);
      }
      const done = unsubscribeRecipient(ctx.db, claims.outboxId, claims.customerId, {
        now: nowOf(ctx),
        how: oneClick ? "one-click" : "page",
      });
      if (!done) {
        return oneClick
          ? reply.code(403).type("text/plain; charset=utf-8").send("This link does not work.")
          : forbidden(reply, ctx, 1);
      }
      if (oneClick) return reply.code(200).type("text/plain; charset=utf-8").send("Unsubscribed.");
      return sendPage(reply, ctx, "unsubscribed", localeOf(ctx, claims.customerId), { root: rootFor(1) });
    });
  });
}
