/**
 * A duplicate certificate of an order, as returned by "list duplicates"
 * (`GET /order/certificate/{order_id}/duplicate`).
 *
 * @since 0.1.0
 */
import { Schema } from "effect"
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
  install_url: Schema.optional(Schema.String),
  csr_url: Schema.optional(Schema.String)
}) {}

/**
 * One duplicate certificate. Fields DigiCert only sends for some statuses (thumbprint, serial number and validity
 * for issued certificates) or omits when unset are optional; unknown fields are ignored.
 *
 * @since 0.1.0
 * @category models
 */
export class DuplicateCertificate extends Schema.Class<DuplicateCertificate>("DuplicateCertificate")({
  id: Schema.Int,
  thumbprint: Schema.optional(Schema.String),
  serial_number: Schema.optional(Schema.String),
  common_name: Schema.String,
  dns_names: Schema.optional(Schema.Array(Schema.String)),
  status: DuplicateStatus,
  date_created: DigiCertSchema.Timestamp,
  valid_from: Schema.optional(DigiCertSchema.CalendarDate),
  valid_till: Schema.optional(DigiCertSchema.CalendarDate),
  days_remaining: Schema.optional(Schema.Int),
  csr: Schema.optional(Schema.String),
  server_platform: Schema.optional(ServerPlatform),
  signature_hash: Schema.optional(Schema.String),
  key_size: Schema.optional(Schema.Int),
  ca_cert_id: Schema.optional(DigiCertSchema.NumericString),
  sub_id: Schema.optional(DigiCertSchema.NumericString),
  public_id: Schema.optional(Schema.String),
  archived: Schema.optional(DigiCertSchema.Flag),
  user_id: Schema.optional(Schema.Int),
  firstname: Schema.optional(Schema.String),
  lastname: Schema.optional(Schema.String)
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
