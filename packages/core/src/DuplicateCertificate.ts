/**
 * A duplicate certificate of an order, as returned by "list duplicates"
 * (`GET /order/certificate/{order_id}/duplicate`).
 *
 * @since 0.1.0
 */
import * as Schema from "effect/Schema"
import * as DigiCertSchema from "./DigiCertSchema.js"

/**
 * Statuses DigiCert documents for duplicates. Other values decode as plain strings.
 *
 * @since 0.1.0
 * @category models
 */
export const DuplicateStatus = DigiCertSchema.openEnum("DuplicateStatus", "approved", "issued", "pending", "rejected")

/**
 * The server platform chosen for a certificate.
 *
 * @since 0.1.0
 * @category models
 */
export class ServerPlatform extends Schema.Class<ServerPlatform>("ServerPlatform")({
  id: Schema.Int,
  name: Schema.String,
  install_url: DigiCertSchema.optional(Schema.String),
  csr_url: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * One duplicate certificate. Fields DigiCert only sends for some statuses (thumbprint, serial number and validity
 * for issued certificates) or omits when unset are optional; unknown fields are ignored. The identifiers DigiCert
 * documents as strings (`ca_cert_id`, `sub_id`, `public_id`) are kept as the API's text (`"001"` stays `"001"`), and
 * `archived` as the API's `"0"`/`"1"` (read it with `DigiCertSchema.isSet`).
 *
 * @since 0.1.0
 * @category models
 */
export class DuplicateCertificate extends Schema.Class<DuplicateCertificate>("DuplicateCertificate")({
  id: Schema.Int,
  thumbprint: DigiCertSchema.optional(Schema.String),
  serial_number: DigiCertSchema.optional(Schema.String),
  common_name: Schema.String,
  dns_names: DigiCertSchema.optional(Schema.Array(Schema.String)),
  status: DuplicateStatus,
  date_created: DigiCertSchema.Timestamp,
  valid_from: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  valid_till: DigiCertSchema.optional(DigiCertSchema.CalendarDate),
  days_remaining: DigiCertSchema.optional(Schema.Int),
  csr: DigiCertSchema.optional(Schema.String),
  server_platform: DigiCertSchema.optional(ServerPlatform),
  signature_hash: DigiCertSchema.optional(Schema.String),
  key_size: DigiCertSchema.optional(Schema.Int),
  ca_cert_id: DigiCertSchema.optional(DigiCertSchema.Identifier),
  sub_id: DigiCertSchema.optional(DigiCertSchema.Identifier),
  public_id: DigiCertSchema.optional(DigiCertSchema.Identifier),
  archived: DigiCertSchema.optional(DigiCertSchema.WireFlag),
  user_id: DigiCertSchema.optional(Schema.Int),
  firstname: DigiCertSchema.optional(Schema.String),
  lastname: DigiCertSchema.optional(Schema.String)
}) {}

/**
 * The response body of "list duplicates".
 *
 * @since 0.1.0
 * @category models
 */
export class DuplicateList extends Schema.Class<DuplicateList>("DuplicateList")({
  certificates: Schema.Array(DuplicateCertificate)
}) {}
