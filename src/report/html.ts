/**
 * The report as one self-contained HTML file (issue 18) a shop owner opens in a browser: inline CSS,
 * inline SVG charts, no scripts, no external URL. Every text that comes from the database (message
 * kinds, weeks) is escaped.
 */
import { formatMoney } from "../deliver/render.js";
import { FUNNEL_STEPS, type FunnelRow, type GroupFigures, type Report } from "./figures.js";

const ESCAPES: Record<string, string> = {
  "&": "&amp;",
  "<": "&lt;",
  ">": "&gt;",
  '"': "&quot;",
  "'": "&#39;",
};
export const escapeHtml = (text: string): string => text.replace(/[&<>"']/g, (c) => ESCAPES[c]!);

const LABELS: Record<string, string> = {
  sent: "sent",
  delivered: "delivered",
  opened: "opened (people)",
  clicked: "clicked",
  cart_viewed: "cart viewed",
  confirmed: "confirmed",
  postponed: "postponed",
  unsubscribed: "unsubscribed",
  reordered: "reordered",
};

const percent = (value: number | null, digits = 1) =>
  value === null ? "–" : `${(value * 100).toFixed(digits)} %`;
const points = (value: number) => `${value >= 0 ? "+" : "−"}${Math.abs(value * 100).toFixed(1)} points`;

function money(report: Report, minor: number | null): string {
  if (minor === null) return "–";
  try {
    return formatMoney("en", Math.round(minor), report.currency);
  } catch {
    return `${Math.round(minor)} ${report.currency}`;
  }
}

/** One horizontal bar per funnel step, its length relative to the messages sent. */
function funnelChart(row: FunnelRow): string {
  const width = 560;
  const labelWidth = 130;
  const barMax = width - labelWidth - 70;
  const height = FUNNEL_STEPS.length * 26 + 10;
  const bars = FUNNEL_STEPS.map((step, i) => {
    const value = row[step];
    const length = row.sent === 0 ? 0 : Math.max(value > 0 ? 2 : 0, (value / row.sent) * barMax);
    const y = 5 + i * 26;
    return (
      `<text x="${labelWidth - 8}" y="${y + 15}" text-anchor="end">${escapeHtml(LABELS[step]!)}</text>` +
      `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="20" rx="3" fill="${step === "reordered" ? "#16a34a" : "#2563eb"}"/>` +
      `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + 15}">${value}</text>`
    );
  }).join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Funnel of ${escapeHtml(row.kind)} emails" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Arial, Helvetica, sans-serif" font-size="13" fill="#18181b">${bars}</svg>`;
}

/** The repurchase rates of both groups, with their 95 % Wilson intervals as whiskers. */
function liftChart(report: Report): string {
  const width = 560;
  const height = 150;
  const left = 110;
  const span = width - left - 40;
  const groups: [string, GroupFigures, string][] = [
    ["emailed", report.lift.emailed, "#2563eb"],
    ["held out", report.lift.held_out, "#a1a1aa"],
  ];
  const x = (rate: number) => left + rate * span;
  const body = groups
    .map(([label, g, colour], i) => {
      const y = 20 + i * 50;
      if (g.rate === null)
        return `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${label}</text><text x="${left}" y="${y + 17}">no carts yet</text>`;
      const [lo, hi] = g.rate_ci95!;
      return (
        `<text x="${left - 8}" y="${y + 17}" text-anchor="end">${label}</text>` +
        `<rect x="${left}" y="${y}" width="${(g.rate * span).toFixed(1)}" height="24" rx="3" fill="${colour}"/>` +
        `<line x1="${x(lo).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${y + 12}" y2="${y + 12}" stroke="#18181b" stroke-width="2"/>` +
        `<line x1="${x(lo).toFixed(1)}" x2="${x(lo).toFixed(1)}" y1="${y + 4}" y2="${y + 20}" stroke="#18181b" stroke-width="2"/>` +
        `<line x1="${x(hi).toFixed(1)}" x2="${x(hi).toFixed(1)}" y1="${y + 4}" y2="${y + 20}" stroke="#18181b" stroke-width="2"/>` +
        `<text x="${(x(hi) + 6).toFixed(1)}" y="${y + 17}">${percent(g.rate)}</text>`
      );
    })
    .join("");
  const ticks = [0, 0.25, 0.5, 0.75, 1]
    .map(
      (t) =>
        `<line x1="${x(t)}" x2="${x(t)}" y1="14" y2="124" stroke="#e4e4e7"/><text x="${x(t)}" y="140" text-anchor="middle" fill="#52525b">${t * 100} %</text>`,
    )
    .join("");
  return `<svg xmlns="http://www.w3.org/2000/svg" role="img" aria-label="Repurchase rate, emailed against held out" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Arial, Helvetica, sans-serif" font-size="13" fill="#18181b">${ticks}${body}</svg>`;
}

function liftText(report: Report): string {
  const { lift } = report;
  const { emailed, held_out: held } = lift;
  if (emailed.carts === 0 || held.carts === 0) {
    return `<p>Not enough carts yet to compare: ${emailed.carts} emailed and ${held.carts} held out whose ${lift.days} days have passed (${lift.carts_pending} more are still within their ${lift.days} days).</p>`;
  }
  const d = lift.rate_difference;
  const r = lift.revenue_per_cart_difference_minor;
  const ci = d.ci95 ? ` (95 % interval ${points(d.ci95[0])} to ${points(d.ci95[1])})` : "";
  const rci = r.ci95
    ? ` (95 % interval ${money(report, r.ci95[0])} to ${money(report, r.ci95[1])})`
    : ` (too few buyers in a group for an interval)`;
  const verdict =
    d.ci95 && d.ci95[0] > 0
      ? "The emails bring customers back: the interval lies above zero."
      : d.ci95 && d.ci95[1] < 0
        ? "Customers who got the emails came back less often than those held out."
        : "The difference is not yet clear: the interval includes zero. More weeks will narrow it.";
  return (
    `<p>Within ${lift.days} days of their cart, <strong>${percent(emailed.rate)}</strong> of the emailed carts were followed by an order (${emailed.repurchased} of ${emailed.carts}), against <strong>${percent(held.rate)}</strong> of the held-out ones (${held.repurchased} of ${held.carts}): a difference of <strong>${points(d.value!)}</strong>${ci}.</p>` +
    `<p>Revenue per cart: ${money(report, emailed.revenue_per_cart_minor)} emailed, ${money(report, held.revenue_per_cart_minor)} held out; difference ${money(report, r.value)}${rci}. Over the ${emailed.carts} emailed carts, about <strong>${money(report, lift.extra_revenue_minor)}</strong> more than without the emails.</p>` +
    `<p>${verdict}</p>` +
    `<p class="note">Intervals: repurchase rates, Wilson; their difference, ${escapeHtml(d.method)}; revenue, ${escapeHtml(r.method)}. ${lift.carts_pending} carts are still within their ${lift.days} days and not counted yet.</p>`
  );
}

function table(report: Report, rows: FunnelRow[], firstHeader: string): string {
  const head = [firstHeader, "kind", ...FUNNEL_STEPS.map((s) => LABELS[s]!), "revenue"]
    .map((h) => `<th scope="col">${escapeHtml(h)}</th>`)
    .join("");
  const body = rows
    .map(
      (row) =>
        `<tr><td>${escapeHtml(row.week)}</td><td>${escapeHtml(row.kind)}</td>${FUNNEL_STEPS.map((s) => `<td class="n">${row[s]}</td>`).join("")}<td class="n">${escapeHtml(money(report, row.revenue_minor))}</td></tr>`,
    )
    .join("\n");
  return `<table><thead><tr>${head}</tr></thead><tbody>\n${body}\n</tbody></table>`;
}

export function reportHtml(report: Report): string {
  const period = report.since ? `since ${report.since.slice(0, 10)}` : "all weeks";
  const funnels = report.totals
    .map(
      (row) =>
        `<figure><figcaption>${escapeHtml(row.kind)}: ${row.sent} sent</figcaption>${funnelChart(row)}</figure>`,
    )
    .join("\n");
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>comeback report, ${escapeHtml(period)}</title>
<style>
body { font-family: Arial, Helvetica, sans-serif; color: #18181b; max-width: 60em; margin: 2em auto; padding: 0 1em; line-height: 1.45; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; margin-top: 2em; }
table { border-collapse: collapse; font-size: 0.85em; margin: 1em 0; }
th, td { border-bottom: 1px solid #e4e4e7; padding: 4px 8px; text-align: left; }
td.n { text-align: right; font-variant-numeric: tabular-nums; }
figure { margin: 1em 0; } figcaption { font-weight: bold; margin-bottom: 0.3em; }
.note { color: #52525b; font-size: 0.85em; }
svg { max-width: 100%; height: auto; }
</style>
</head>
<body>
<h1>Does comeback earn its keep?</h1>
<p class="note">Report of ${escapeHtml(report.now.slice(0, 10))}, ${escapeHtml(period)}. Amounts in ${escapeHtml(report.currency)}; a reorder counts within ${report.days} days of the email.</p>
<h2>Lift against the hold-out group</h2>
${liftChart(report)}
${liftText(report)}
<h2>What happened to the emails</h2>
${funnels || "<p>No emails to customers sent in this period.</p>"}
${report.totals.length ? table(report, report.totals, "weeks") : ""}
<h2>Week by week</h2>
${report.weeks.length ? table(report, report.weeks, "week") : "<p>No weeks with emails in this period.</p>"}
<p class="note">Opened counts people only: a privacy proxy or link scanner that fetches every message on delivery is left out; a click counts as an open (images may be blocked).</p>
</body>
</html>
`;
}
