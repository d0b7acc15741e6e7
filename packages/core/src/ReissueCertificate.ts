/**
 * A reissued certificate of an order, as returned by "list reissues" (`GET /order/certificate/{order_id}/reissue`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
import * as DigiCertSchema from "./DigiCertSchema.js"

/**
 * Statuses DigiCert documents for reissues. Other values decode as plain strings.
 *
 * @since 0.1.0
 * @category models
 */
export const ReissueStatus = DigiCertSchema.openEnum("ReissueStatus", "issued", "pending", "rejected")

/**
 * One reissued certificate, with who requested it and what the reissue cost. Fields DigiCert only sends for some
 * statuses or omits when unset are optional; unknown fields are ignored. `archived` may come as `"0"`/`"1"` or as
 * an integer.
 *
 * @since 0.1.0
 * @category models
 */
export class ReissueCertificate extends Schema.Class<ReissueCertificate>("ReissueCertificate")({
  id: Schema.Int,
  thumbprint: Schema.optional(Schema.String),
  serial_number: Schema.optional(Schema.String),
  common_name: Schema.String,
  dns_names: Schema.optional(Schema.Array(Schema.String)),
  status: ReissueStatus,
  date_created: DigiCertSchema.Timestamp,
  valid_from: Schema.optional(DigiCertSchema.CalendarDate),
  valid_till: Schema.optional(DigiCertSchema.CalendarDate),
  days_remaining: Schema.optional(Schema.Int),
  csr: Schema.optional(Schema.String),
  signature_hash: Schema.optional(Schema.String),
  key_size: Schema.optional(Schema.Int),
  ca_cert_id: Schema.optional(DigiCertSchema.NumericString),
  archived: Schema.optional(DigiCertSchema.Flag),
  user_id: Schema.optional(Schema.Int),
  email: Schema.optional(Schema.String),
  firstname: Schema.optional(Schema.String),
  lastname: Schema.optional(Schema.String),
  receipt_id: Schema.optional(DigiCertSchema.NumericString),
  purchased_dns_names: Schema.optional(DigiCertSchema.NumericString),
  purchased_wildcard_names: Schema.optional(DigiCertSchema.NumericString)
}) {}

/**
 * The response body of "list reissues".
 *
 * @since 0.1.0
 * @category models
 */
export class ReissueList extends Schema.Class<ReissueList>("ReissueList")({
  certificates: Schema.Array(ReissueCertificate)
}) {}
