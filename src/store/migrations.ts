/**
 * Numbered schema migrations, applied in order at open. Never edit a shipped migration:
 * add the next number. `PRAGMA user_version` records how far a database has come.
 */
export const MIGRATIONS: readonly string[] = [
  // 1: facts from imports
  `
  CREATE TABLE imports (
    id INTEGER PRIMARY KEY,
    file TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    kind TEXT NOT NULL,
    profile TEXT NOT NULL,
    source TEXT,
    encoding TEXT NOT NULL,
    rows INTEGER NOT NULL,
    report TEXT NOT NULL,            -- the JSON report of the last run over these bytes
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    UNIQUE (sha256, kind)
  );

  CREATE TABLE customers (
    id INTEGER PRIMARY KEY,
    identity_key TEXT NOT NULL UNIQUE,  -- "id:<customer_id>", "email:<email>" or "phone:<digits>"
    external_id TEXT,
    email TEXT,                          -- trimmed, lower-cased
    email_display TEXT,                  -- as the shop wrote it
    phone TEXT,
    first_name TEXT,
    last_name TEXT,
    name TEXT,
    accepts_marketing INTEGER,           -- 1, 0, or NULL when never stated
    locale TEXT,
    usage_factor REAL,
    info_as_of TEXT NOT NULL,            -- the time of the newest source the fields came from
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX customers_email ON customers (email) WHERE email IS NOT NULL;

  CREATE TABLE products (
    sku TEXT PRIMARY KEY,
    name TEXT,
    unit_price_minor INTEGER,
    currency TEXT,
    days_per_unit REAL,
    group_key TEXT,
    from_catalog INTEGER NOT NULL DEFAULT 0,  -- 1 once a products import described it; order lines then never overwrite it
    updated_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    source TEXT NOT NULL,
    external_id TEXT NOT NULL,
    customer_id INTEGER REFERENCES customers (id),
    placed_at TEXT NOT NULL,
    status TEXT,
    status_class TEXT NOT NULL CHECK (status_class IN ('cancelled', 'completed', 'other')),
    currency TEXT NOT NULL,
    refunded_minor INTEGER NOT NULL DEFAULT 0,
    cancelled_at TEXT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (source, external_id)
  );
  CREATE INDEX orders_customer ON orders (customer_id, placed_at);

  -- Clustered by order: an import appends each order's lines together, and readers fetch them together.
  CREATE TABLE order_lines (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    line_key TEXT NOT NULL,
    sku TEXT,
    product_name TEXT,
    quantity REAL NOT NULL,
    unit_price_minor INTEGER,
    line_total_minor INTEGER,
    PRIMARY KEY (order_id, line_key)
  ) WITHOUT ROWID;

  CREATE TABLE order_status_history (
    order_id INTEGER NOT NULL REFERENCES orders (id),
    status TEXT NOT NULL,
    status_class TEXT NOT NULL,
    first_seen_at TEXT NOT NULL,
    import_id INTEGER REFERENCES imports (id),
    PRIMARY KEY (order_id, status)
  ) WITHOUT ROWID;
  `,
  // 2: replenishment. Reminders are derived by `plan`; the admin's overrides and usage factors are facts
  // kept in their own tables so no plan or import overwrites them.
  `
  CREATE TABLE reminder_overrides (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    group_key TEXT NOT NULL,           -- a replenishment group, or '*' for all of the customer's groups
    due_on TEXT,                       -- a due date the admin set (YYYY-MM-DD) for one purchase:
    purchase_order_id INTEGER REFERENCES orders (id),  -- that purchase; a later one plans as usual
    cycle_days REAL,                   -- how often to repeat an unanswered reminder
    paused INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, group_key)
  ) WITHOUT ROWID;

  CREATE TABLE customer_usage_overrides (
    customer_id INTEGER PRIMARY KEY REFERENCES customers (id),
    usage_factor REAL NOT NULL,
    updated_at TEXT NOT NULL
  );

  -- One row per customer and replenishment group: the reminder for their latest purchase of it.
  CREATE TABLE reminders (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    group_key TEXT NOT NULL,
    purchase_order_id INTEGER NOT NULL REFERENCES orders (id),  -- the purchase it is about
    sku TEXT,                                -- of the last purchase
    product_name TEXT,
    last_purchase_on TEXT NOT NULL,          -- YYYY-MM-DD in the shop's timezone
    quantity REAL NOT NULL,                  -- net of returns
    days_per_unit REAL NOT NULL,
    usage_factor REAL NOT NULL,
    supply_days REAL NOT NULL,
    basis TEXT NOT NULL CHECK (basis IN ('rule', 'learned', 'manual')),
    lead_days INTEGER NOT NULL,
    cycle_days REAL NOT NULL,
    first_due_on TEXT NOT NULL,
    due_on TEXT NOT NULL,                    -- the current due date (first_due_on + cycles)
    reminder_number INTEGER NOT NULL,        -- 1 for the first reminder, 2 after one cycle, …
    state TEXT NOT NULL CHECK (state IN ('open', 'paused', 'satisfied', 'expired')),
    fingerprint TEXT NOT NULL,               -- a hash of the values above: plan compares it to skip unchanged rows
    updated_at TEXT NOT NULL,                -- when plan last changed the row
    PRIMARY KEY (customer_id, group_key)
  );  -- a rowid table: its rows are too wide for WITHOUT ROWID (inserts measured twice as slow)
  CREATE INDEX reminders_open_due ON reminders (due_on) WHERE state = 'open';
  `,
  // 3: delivery. Carts are what a customer was offered in a week; the outbox holds every message with the
  // data it is rendered from, so sending is a state machine over committed rows (DESIGN, idempotency rule 3).
  `
  CREATE TABLE carts (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    week TEXT NOT NULL,                      -- ISO week in the shop's timezone, e.g. 2026-W10
    currency TEXT,                           -- of the total; NULL when the items mix currencies
    total_minor INTEGER,                     -- NULL when a price is unknown or currencies mix
    item_count INTEGER NOT NULL,
    created_at TEXT NOT NULL,
    UNIQUE (customer_id, week)
  );
  CREATE INDEX carts_week ON carts (week);

  CREATE TABLE cart_items (
    cart_id INTEGER NOT NULL REFERENCES carts (id),
    group_key TEXT NOT NULL,
    sku TEXT,
    product_name TEXT,
    quantity REAL NOT NULL,                  -- the suggested quantity: that of the last purchase
    unit_price_minor INTEGER,                -- the current price, or that of the last purchase; NULL if unknown
    currency TEXT,
    due_on TEXT NOT NULL,
    reminder_number INTEGER NOT NULL,
    PRIMARY KEY (cart_id, group_key)
  ) WITHOUT ROWID;

  CREATE TABLE outbox (
    id INTEGER PRIMARY KEY,
    idempotency_key TEXT NOT NULL UNIQUE,    -- cart:<customer>:<week>, digest:<week>
    kind TEXT NOT NULL,                      -- the template folder: cart, digest
    channel TEXT NOT NULL DEFAULT 'email',
    marketing INTEGER NOT NULL,              -- 1: consent, suppressions, cap and window apply
    customer_id INTEGER REFERENCES customers (id),
    recipient TEXT,                          -- the address (lower-cased); NULL when the customer has none
    payload TEXT NOT NULL,                   -- JSON the message is rendered from
    state TEXT NOT NULL CHECK (state IN ('queued', 'sending', 'sent', 'failed', 'skipped')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at TEXT NOT NULL,
    deferred_reason TEXT,                    -- why next_attempt_at was pushed back (cap, window)
    message_id TEXT,
    response TEXT,                           -- the transport's answer to the last attempt
    error TEXT,                              -- the last error, or why it was skipped
    created_at TEXT NOT NULL,
    claimed_at TEXT,                         -- when the current or last attempt started
    sent_at TEXT,
    updated_at TEXT NOT NULL
  );
  CREATE INDEX outbox_due ON outbox (next_attempt_at, id) WHERE state = 'queued';
  CREATE INDEX outbox_customer ON outbox (customer_id) WHERE marketing = 1;

  CREATE TABLE suppressions (
    address TEXT PRIMARY KEY,                -- lower-cased
    reason TEXT NOT NULL,                    -- e.g. the server's words rejecting it
    source TEXT NOT NULL,                    -- smtp, unsubscribe, admin
    created_at TEXT NOT NULL
  ) WITHOUT ROWID;

  -- The run lock (DESIGN, rule 4): at most one row, naming the process that holds it.
  CREATE TABLE run_lock (
    name TEXT PRIMARY KEY,
    pid INTEGER NOT NULL,
    host TEXT NOT NULL,
    command TEXT NOT NULL,
    started_at TEXT NOT NULL,
    process_start TEXT                       -- the holder's start time as the OS counts it (Linux), to tell a reused pid
  ) WITHOUT ROWID;
  `,
  // 4: lost customers. The lifecycle and the stored BG/NBD fit are derived by plan; calls are facts from
  // a phone system's log; tasks are derived (one per customer and cadence slot) but carry who closed them and why.
  `
  -- Derived and rewritten wholesale by each plan: no foreign keys or secondary indexes to check and
  -- maintain on 100,000 writes (the plan takes customers and orders from the tables it references).
  CREATE TABLE customer_lifecycle (
    customer_id INTEGER PRIMARY KEY,         -- customers (id)
    status TEXT NOT NULL CHECK (status IN ('new', 'active', 'warm', 'cold', 'lost', 'won_back')),
    since TEXT NOT NULL,                     -- YYYY-MM-DD: the day the customer entered the status
    model TEXT NOT NULL,                     -- rhythm | bgnbd
    orders INTEGER NOT NULL,                 -- orders that count as purchases (not cancelled), as of as_of
    first_order_on TEXT NOT NULL,
    last_order_on TEXT NOT NULL,
    last_order_id INTEGER NOT NULL,          -- orders (id)
    typical_gap_days REAL NOT NULL,
    p_alive REAL,                            -- bgnbd only
    expected_purchases_90d REAL,             -- bgnbd only
    score REAL,                              -- bgnbd: what the thresholds were applied to
    won_back_from TEXT,                      -- won_back: the status they came back from
    next_contact_on TEXT,                    -- the current or next win-back contact, if any
    digest INTEGER NOT NULL                  -- a hash of all the above: a plan compares this alone
  );

  -- The last lifecycle plan: rows above hold what changes rarely; days since the last order follow from as_of.
  CREATE TABLE lifecycle_state (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    as_of TEXT NOT NULL,                     -- the plan's now (UTC)
    as_of_day TEXT NOT NULL,                 -- its day in the shop's timezone
    model TEXT NOT NULL,
    shop_gap_days REAL
  );

  CREATE TABLE model_params (
    model TEXT PRIMARY KEY,                  -- 'bgnbd'
    params TEXT NOT NULL,                    -- JSON: r, alpha, a, b (time in weeks)
    log_likelihood REAL NOT NULL,
    customers INTEGER NOT NULL,
    degenerate TEXT,                         -- why the fit can't be trusted for P(alive), or NULL
    data_key TEXT NOT NULL,                  -- fingerprint of the summaries it was fitted on
    as_of TEXT NOT NULL,
    fitted_at TEXT NOT NULL
  ) WITHOUT ROWID;

  CREATE TABLE calls (
    id INTEGER PRIMARY KEY,
    phone TEXT NOT NULL,                     -- digits only
    phone_key TEXT NOT NULL,                 -- the last 9 digits: matches +49 170 … with 0170 …
    started_at TEXT NOT NULL,                -- UTC
    duration_seconds INTEGER NOT NULL,
    direction TEXT,
    agent TEXT,
    import_id INTEGER REFERENCES imports (id),
    UNIQUE (phone, started_at)
  );
  CREATE INDEX calls_phone_key ON calls (phone_key, started_at);

  CREATE TABLE tasks (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    kind TEXT NOT NULL,                      -- 'winback_call'
    due_on TEXT NOT NULL,                    -- YYYY-MM-DD: the cadence slot
    lifecycle_status TEXT NOT NULL,          -- warm | cold | lost when the task was made
    contact_number INTEGER NOT NULL,         -- n-th contact while in that status
    state TEXT NOT NULL CHECK (state IN ('open', 'done', 'won_back', 'closed', 'expired')),
    created_at TEXT NOT NULL,                -- the plan's now (UTC)
    closed_at TEXT,
    closed_by TEXT,                          -- 'call' for a call from the log, else the person
    close_reason TEXT,
    call_id INTEGER REFERENCES calls (id),
    UNIQUE (customer_id, kind, due_on)
  );
  CREATE INDEX tasks_open ON tasks (customer_id) WHERE state = 'open';
  `,
  // 5: import looks a customer up by the shop's id when no identity matches (a customer first known by
  // email keeps that identity when the shop's id is added to them).
  `
  CREATE INDEX customers_external_id ON customers (external_id) WHERE external_id IS NOT NULL;
  `,
  // 6: the UTC offsets an orders import's times were written with, per offset and day (JSON, see
  // src/import/offsets.ts), so plan, weekly and status can warn when the configured timezone disagrees.
  // NULL for imports made before: they are not compared.
  `
  ALTER TABLE imports ADD COLUMN offsets TEXT;
  `,
  // 7: the shop system's variant id of a product (a products import's variant_id column), for cart
  // links: Shopify's cart permalinks (/cart/VARIANT:QTY,…) take numeric variant ids, not skus.
  `
  ALTER TABLE products ADD COLUMN variant_id TEXT;
  `,
  // 8: when comeback first planned this shop, so "lapsed before comeback" (the win-back backlog,
  // mailed at a weekly ceiling) stays the same across runs, --now replays and re-imports; and the day
  // each drifting customer first became overdue since their last order (the backlog's order). A shop
  // planned before this migration counts from its last plan.
  `
  CREATE TABLE comeback_start (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    first_planned_on TEXT NOT NULL,          -- YYYY-MM-DD, shop time: the day of the first plan's now
    first_planned_at TEXT NOT NULL           -- that plan's now (UTC)
  );
  INSERT INTO comeback_start (id, first_planned_on, first_planned_at)
    SELECT 1, as_of_day, as_of FROM lifecycle_state WHERE id = 1;
  ALTER TABLE customer_lifecycle ADD COLUMN lapsed_on TEXT; -- warm/cold/lost: the day they first became overdue
  `,
  // 9 (issue 17): the run lock's heartbeat, renewed by its holder every 30 s, so a lock left by a
  // crash on another host (a replaced container) expires after delivery.lock_expiry_minutes.
  `
  ALTER TABLE run_lock ADD COLUMN heartbeat_at TEXT;
  `,
  // 10 (issue 18): what happened to a message after it was sent, written by serve (opens, clicks, cart
  // views, the customer's answer) and the send path; the report reads the funnel from here alone.
  `
  CREATE TABLE events (
    id INTEGER PRIMARY KEY,
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),
    customer_id INTEGER REFERENCES customers (id),
    kind TEXT NOT NULL CHECK (kind IN
      ('delivered', 'opened', 'clicked', 'cart_viewed', 'confirmed', 'postponed', 'unsubscribed')),
    machine INTEGER NOT NULL DEFAULT 0,      -- 1: a privacy proxy or link scanner, not a person
    detail TEXT,                             -- JSON: the URL clicked, the items postponed; nothing personal
    at TEXT NOT NULL                         -- UTC
  );
  CREATE INDEX events_outbox ON events (outbox_id, kind);
  `,
  // 11 (issue 15): the day a customer's supply runs out by their replenishment reminders, when it still
  // lasts: the lifecycle keeps them active (or new) until then, and says why (src/plan/lifecycle/supply.ts).
  // Derived: the next plan fills it in.
  `
  ALTER TABLE customer_lifecycle ADD COLUMN supply_until TEXT;
  `,
  // 12 (issue 18): the customer's answer on serve's cart page. A product's picture for the page (a
  // products import's image_url column). A confirmed cart becomes a reorder request for the operator,
  // one per cart (confirming twice makes one); its items name the purchase whose reminder they answer,
  // so that reminder is not offered again while the order comes in. A postponed item is kept
  // (the wishlist) with the day it comes back, or none: "I don't need this any more".
  `
  ALTER TABLE products ADD COLUMN image_url TEXT;

  CREATE TABLE reorders (
    id INTEGER PRIMARY KEY,
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    cart_id INTEGER NOT NULL UNIQUE REFERENCES carts (id),
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),    -- the cart email the customer answered
    currency TEXT,                                       -- of the total; NULL when items mix currencies
    total_minor INTEGER,                                 -- NULL when a price is unknown
    status TEXT NOT NULL CHECK (status IN ('open', 'done')),
    closed_by TEXT CHECK (closed_by IN ('operator', 'order')),
    closed_order_id INTEGER REFERENCES orders (id),      -- the imported order that closed it
    created_at TEXT NOT NULL,                            -- UTC: when the customer confirmed
    closed_at TEXT
  );
  CREATE INDEX reorders_open ON reorders (customer_id) WHERE status = 'open';

  CREATE TABLE reorder_items (
    reorder_id INTEGER NOT NULL REFERENCES reorders (id),
    group_key TEXT NOT NULL,
    sku TEXT,
    product_name TEXT,
    quantity REAL NOT NULL,                              -- as the customer confirmed it
    unit_price_minor INTEGER,
    currency TEXT,
    purchase_order_id INTEGER REFERENCES orders (id),    -- the purchase whose reminder this answers
    PRIMARY KEY (reorder_id, group_key)
  ) WITHOUT ROWID;
  CREATE INDEX reorder_items_purchase ON reorder_items (purchase_order_id, group_key);

  CREATE TABLE postponements (
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    group_key TEXT NOT NULL,
    purchase_order_id INTEGER REFERENCES orders (id),    -- the purchase whose reminder was moved
    outbox_id INTEGER NOT NULL REFERENCES outbox (id),   -- the cart email it was postponed from
    sku TEXT,
    product_name TEXT,
    weeks INTEGER,                                       -- 1, 2, 4; NULL: not needed any more (paused)
    until TEXT,                                          -- YYYY-MM-DD the reminder comes back; NULL when paused
    created_at TEXT NOT NULL,
    PRIMARY KEY (customer_id, group_key)
  ) WITHOUT ROWID;
  `,
  // 13 (issue 18, hold-out groups): for every new cart of a customer with an address, whether it fell
  // in the week's hold-out group (no email) or was mailed, so the report compares the two. Written
  // once, with the cart, by weekly.
  `
  CREATE TABLE holdout (
    cart_id INTEGER PRIMARY KEY REFERENCES carts (id),
    customer_id INTEGER NOT NULL REFERENCES customers (id),
    week TEXT NOT NULL,                      -- the cart's ISO week
    held_out INTEGER NOT NULL,               -- 1: no email (the control group); 0: emailed
    share REAL NOT NULL,                     -- holdout.share when it was decided
    created_at TEXT NOT NULL
  );
  CREATE INDEX holdout_week ON holdout (week, held_out);
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;
