/**
 * The canonical fields of each import kind: the names a profile maps a file's headers to.
 * One list per kind, used by the config schema, the profiles and the normalizers.
 */
export const IMPORT_KINDS = ["orders", "products", "customers", "calls"] as const;
export type ImportKind = (typeof IMPORT_KINDS)[number];

export const ORDER_FIELDS = [
  "order_id",
  "ordered_at",
  "sku",
  "product_name",
  "quantity",
  "unit_price",
  "line_total",
  "currency",
  "status",
  "customer_id",
  "email",
  "phone",
  "first_name",
  "last_name",
  "customer_name",
  "accepts_marketing",
  "locale",
  // Beyond the core list: a stable line id keys lines better than their position,
  // and many exports carry cancellation and refund columns.
  "line_id",
  "cancelled_at",
  "refunded_amount",
] as const;

export const PRODUCT_FIELDS = [
  "sku",
  "name",
  "unit_price",
  "currency",
  "days_per_unit",
  "group",
  // The shop system's id of the product variant (Shopify's numeric variant id), for cart links.
  "variant_id",
  // A picture of the product (an http(s) URL) for the cart page of `comeback serve`.
  "image_url",
] as const;

export const CUSTOMER_FIELDS = [
  "customer_id",
  "email",
  "phone",
  "first_name",
  "last_name",
  "customer_name",
  "accepts_marketing",
  "locale",
  "usage_factor",
] as const;

/** A phone system's call log: one row per call. */
export const CALL_FIELDS = ["phone", "started_at", "duration_seconds", "direction", "agent"] as const;

export type OrderField = (typeof ORDER_FIELDS)[number];
export type ProductField = (typeof PRODUCT_FIELDS)[number];
export type CustomerField = (typeof CUSTOMER_FIELDS)[number];

export const FIELDS_BY_KIND: Record<ImportKind, readonly string[]> = {
  orders: ORDER_FIELDS,
  products: PRODUCT_FIELDS,
  customers: CUSTOMER_FIELDS,
  calls: CALL_FIELDS,
};
