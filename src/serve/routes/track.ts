/**
 * Tracking (issue 18): the open pixel `GET /o/:token` and click redirects `GET /r/:token?u=&s=`.
 *
 * The pixel always answers with the GIF, whatever the token: a broken image in an email helps nobody,
 * and the answer must not tell a forged token from a real one. Only a genuine, unexpired token of a
 * message that exists records an `opened` event. A click records `clicked` and redirects (302) only to
 * a URL the message itself carried (src/track/click.ts); a bad token, target or signature gets a 403
 * page and goes nowhere. Proxies and scanners are recorded as machine events (src/track/machine.ts).
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from "fastify";
import { verifyLink, type LinkClaims, type LinkPurpose } from "../../links/token.js";
import { isHttpUrl, verifyTarget } from "../../track/click.js";
import { machineReason } from "../../track/machine.js";
import { eventsOf } from "../event-queue.js";
import type { ServeContext } from "../context.js";

/** A transparent 1×1 GIF (43 bytes). */
export const PIXEL_GIF = Buffer.from("R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7", "base64");

const FORBIDDEN_PAGE = `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>This link does not work</title></head>
<body style="font-family:Arial,Helvetica,sans-serif;max-width:32em;margin:2em auto;padding:0 1em;color:#18181b;">
<h1 style="font-size:1.4em;">This link does not work</h1>
<p>It may have expired, or it was changed on the way. Please open the link again from the email we sent you, or visit the shop's website directly.</p>
</body></html>
`;

interface TokenParams {
  token: string;
}
interface ClickQuery {
  u?: string;
  s?: string;
}

export async function registerTrackRoutes(app: FastifyInstance, ctx: ServeContext): Promise<void> {
  const message = ctx.db.prepare<[number], { customer_id: number | null; sent_at: string | null }>(
    "SELECT customer_id, sent_at FROM outbox WHERE id = ?",
  );

  /** The claims of a genuine, unexpired token for a message that exists and belongs to its customer. */
  const check = (token: string, purpose: LinkPurpose): (LinkClaims & { sentAt: string | null }) | null => {
    const result = verifyLink(ctx.secret, token, purpose, Math.floor(ctx.now().getTime() / 1000));
    if (!result.ok) return null;
    const row = message.get(result.claims.outboxId);
    if (!row || row.customer_id !== result.claims.customerId) return null;
    return { ...result.claims, sentAt: row.sent_at };
  };

  const record = (
    request: FastifyRequest,
    claims: LinkClaims & { sentAt: string | null },
    kind: "opened" | "clicked",
    detail: Record<string, unknown>,
  ) => {
    const at = ctx.now().toISOString();
    const reason = machineReason({
      kind: kind === "opened" ? "open" : "click",
      userAgent: request.headers["user-agent"],
      method: request.method,
      sentAt: claims.sentAt,
      at,
    });
    // Through serve's event queue: a pixel or a redirect never waits for the batch's write lock.
    eventsOf(ctx).add({
      outboxId: claims.outboxId,
      customerId: claims.customerId,
      kind,
      at,
      machine: reason !== null,
      detail: reason === null ? detail : { ...detail, machine: reason },
    });
  };

  const forbidden = (reply: FastifyReply) =>
    reply
      .code(403)
      .header("Cache-Control", "no-store")
      .header("Referrer-Policy", "no-referrer")
      .type("text/html; charset=utf-8")
      .send(FORBIDDEN_PAGE);

  app.get<{ Params: TokenParams }>("/o/:token", async (request, reply) => {
    const claims = check(request.params.token, "open");
    if (claims) record(request, claims, "opened", {});
    // The pixel sits in an email, so in another origin's page (webmail): helmet's same-origin
    // resource policy made the browser refuse it (ERR_BLOCKED_BY_RESPONSE.NotSameOrigin).
    return reply
      .header("Cache-Control", "no-store, no-cache, must-revalidate, private")
      .header("Pragma", "no-cache")
      .header("Expires", "0")
      .header("Cross-Origin-Resource-Policy", "cross-origin")
      .type("image/gif")
      .send(PIXEL_GIF);
  });

  app.get<{ Params: TokenParams; Querystring: ClickQuery }>("/r/:token", async (request, reply) => {
    const { token } = request.params;
    const { u: target, s: sig } = request.query;
    if (typeof target !== "string" || typeof sig !== "string" || !isHttpUrl(target)) {
      return reply.code(400).type("text/plain; charset=utf-8").send("Bad request: this link is incomplete.");
    }
    const claims = check(token, "click");
    if (!claims || !verifyTarget(ctx.secret, token, target, sig)) return forbidden(reply);
    record(request, claims, "clicked", { url: target });
    return reply
      .header("Cache-Control", "no-store")
      .header("Referrer-Policy", "no-referrer")
      .redirect(target, 302);
  });
}
