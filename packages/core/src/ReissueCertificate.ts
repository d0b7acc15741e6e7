/**
 * A reissued certificate of an order, as returned by "list reissues" (`GET /order/certificate/{order_id}/reissue`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
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
 * statuses or omits when unset are optional; unknown fields are ignored. `date_issued` is only sent once a reissue is
 * issued (DigiCert omits it for pending and rejected ones). `archived` is documented as an integer but may come as
 * `"0"`/`"1"` too; it is kept in the form it came in (read it with `DigiCertSchema.isSet`). `receipt_id` is the API's
 * text.
 *
 * @since 0.1.0
 * @category models
 */
export class ReissueCertificate extends Schema.Class<ReissueCertificate>("ReissueCertificate")({
  id: Schema.Int,
  thumbprint: DigiCertSchema.optional(Schema.String),
  serial_number: DigiCertSchema.optional(Schema.String),
  common_name: Schema.String,
  dns_names: DigiCertSchema.optional(Schema.Array(Schema.String)),
  status: ReissueStatus,
  date_created: DigiCertSchema.Timestamp,
  date_issued: DigiCertSchema.optional(DigiCertSchema.Timestamp),
  valid_from: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  valid_till: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  days_remaining: DigiCertSchema.optional(Schema.Int),
  csr: DigiCertSchema.optional(Schema.String),
  signature_hash: DigiCertSchema.optional(Schema.String),
  key_size: DigiCertSchema.optional(Schema.Int),
  ca_cert_id: DigiCertSchema.optional(DigiCertSchema.Identifier),
  archived: DigiCertSchema.optional(DigiCertSchema.WireFlag),
  user_id: DigiCertSchema.optional(Schema.Int),
  email: DigiCertSchema.optional(Schema.String),
  firstname: DigiCertSchema.optional(Schema.String),
  lastname: DigiCertSchema.optional(Schema.String),
  receipt_id: DigiCertSchema.optional(DigiCertSchema.Identifier),
  purchased_dns_names: DigiCertSchema.optional(DigiCertSchema.NumericString),
  purchased_wildcard_names: DigiCertSchema.optional(DigiCertSchema.NumericString)
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
