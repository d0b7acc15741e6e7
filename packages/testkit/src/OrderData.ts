/**
 * Deterministic order data for any order id, shaped the way DigiCert documents the three endpoints: the same seed and
 * id always give the same bytes, optional fields are absent exactly where the docs say, and a few ids answer with the
 * documented samples verbatim. Plain JSON objects, never the client's Schemas.
 *
 * @since 0.1.0
 */
import * as Random from "./internal/random.js"
import * as Samples from "./Samples.js"

/**
 * The three endpoints the server speaks.
 *
 * @since 0.1.0
 * @category models
 */
export type Endpoint = "duplicates" | "reissues" | "subaccountOrder"

/**
 * Query parameters the endpoints honour.
 *
 * @since 0.1.0
 * @category models
 */
export interface Query {
  /** `show_archived=true`: archived duplicates and reissues are listed too. */
  readonly showArchived: boolean
  /** `include_validation_status=true`: the order gets a `subaccount_order_validations` object. */
  readonly includeValidationStatus: boolean
}

/**
 * A JSON value as the server builds it.
 *
 * @since 0.1.0
 * @category models
 */
export type Json = null | boolean | number | string | ReadonlyArray<Json> | { readonly [key: string]: Json }

/**
 * Order statuses from DigiCert's glossary, with the weight each gets in generated data.
 *
 * @since 0.1.0
 * @category constants
 */
export const orderStatuses: ReadonlyArray<readonly [string, number]> = [
  ["issued", 50],
  ["pending", 10],
  ["processing", 4],
  ["rejected", 4],
  ["canceled", 4],
  ["revoked", 5],
  ["expired", 12],
  ["needs_approval", 4],
  ["reissue_pending", 4],
  ["waiting_pickup", 3]
]

/**
 * Duplicate certificate statuses (documented: approved, issued, pending, rejected).
 *
 * @since 0.1.0
 * @category constants
 */
export const duplicateStatuses: ReadonlyArray<readonly [string, number]> = [
  ["issued", 55],
  ["approved", 15],
  ["pending", 15],
  ["rejected", 15]
]

/**
 * Reissue certificate statuses (documented: issued, pending, rejected).
 *
 * @since 0.1.0
 * @category constants
 */
export const reissueStatuses: ReadonlyArray<readonly [string, number]> = [["issued", 70], ["pending", 15], [
  "rejected",
  15
]]

/**
 * Products from DigiCert's glossary: `name_id`, display `name`, `type`, price in USD.
 *
 * @since 0.1.0
 * @category constants
 */
export const products: ReadonlyArray<
  { readonly name_id: string; readonly name: string; readonly type: string; readonly cost: number }
> = [
  { name_id: "ssl_basic", name: "Basic OV", type: "ssl_certificate", cost: 358 },
  { name_id: "ssl_plus", name: "Standard SSL", type: "ssl_certificate", cost: 198 },
  { name_id: "ssl_securesite", name: "Secure Site SSL", type: "ssl_certificate", cost: 399 },
  { name_id: "ssl_securesite_pro", name: "Secure Site Pro SSL", type: "ssl_certificate", cost: 995 },
  { name_id: "ssl_ev_basic", name: "Basic EV", type: "ssl_certificate", cost: 495 },
  { name_id: "ssl_ev_securesite", name: "Secure Site EV SSL", type: "ssl_certificate", cost: 995 },
  { name_id: "ssl_multi_domain", name: "Multi-Domain SSL", type: "ssl_certificate", cost: 599 },
  { name_id: "ssl_ev_multi_domain", name: "EV Multi-Domain SSL", type: "ssl_certificate", cost: 799 },
  { name_id: "ssl_wildcard", name: "Wildcard SSL", type: "ssl_certificate", cost: 688 },
  { name_id: "ssl_dv_geotrust", name: "GeoTrust Standard DV", type: "ssl_certificate", cost: 149 },
  { name_id: "client_premium", name: "Premium", type: "client_certificate", cost: 119 },
  { name_id: "code_signing", name: "Code Signing", type: "code_signing_certificate", cost: 474 }
]

const DAY = 86_400_000
/** `days_remaining` is counted from this fixed day so bodies never depend on the wall clock. */
const REFERENCE_DAY = Date.UTC(2024, 5, 1)
const EPOCH = Date.UTC(2016, 0, 1)

const words = ["shop", "mail", "portal", "api", "login", "static", "cdn", "intranet", "vpn", "billing", "status"]
const domains = ["example.com", "example.net", "example.org", "acme-corp.com", "globex.io", "initech.co.uk"]
const people = [
  ["Jan", "Sport"],
  ["John", "Someone"],
  ["Jill", "Valentine"],
  ["Logan", "Nelson"],
  ["Ana", "García"],
  ["Mei", "Chen"],
  ["O'Brien", "Siobhan"],
  ["Ravi", "Kumar"]
] as const
const organizations = [
  ["Real Organization, LLC", "Real Organization"],
  ["Example Organization", undefined],
  ["Globex Corporation", "Globex"],
  ["Initech, Inc.", undefined],
  ["Acme Corp", "ACME"],
  ["Umbrella \"Bio\" Ltd", undefined]
] as const
const platforms = [
  [45, "nginx"],
  [2, "apache2"],
  [14, "microsoft iis 10"],
  [-1, "other"]
] as const
/**
 * Issuing CA certificates served as `certificate.ca_cert` (and, by id, as duplicates' `ca_cert_id`): DigiCert's ids are
 * opaque text, hex tokens of various lengths as well as digits.
 *
 * @since 0.2.0
 * @category constants
 */
export const caCerts: ReadonlyArray<{ readonly id: string; readonly name: string }> = [
  { id: "A937018B9FAF6CC2", name: "DigiCert Global G2 TLS RSA SHA256 2020 CA1" },
  { id: "B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960", name: "DigiCert TLS RSA SHA256 2020 CA1" },
  { id: "0A3508D55C292B017DF8AD65C00FF7E4", name: "DigiCert EV RSA CA G2" },
  { id: "1005", name: "DigiCert SHA2 Secure Server CA" }
]

const units = ["Sales department", "IT", "Engineering", "=HYPERLINK(\"x\")", "Ops; Security"]

const isoSeconds = (ms: number): string => new Date(ms).toISOString().slice(0, 19) + "+00:00"
const isoDay = (ms: number): string => new Date(ms).toISOString().slice(0, 10)
const csr = (random: Random.Random): string =>
  `-----BEGIN CERTIFICATE REQUEST-----\n${Random.hex(random, 48)}\n-----END CERTIFICATE REQUEST-----`

interface Order {
  readonly id: number
  readonly status: string
  readonly subSubaccount: boolean
  readonly product: (typeof products)[number]
  readonly commonName: string
  readonly dnsNames: ReadonlyArray<string>
  readonly created: number
  readonly validFrom: number
  readonly validTill: number
  readonly validityYears: number
  readonly certificateId: number
  readonly issuedLike: boolean
}

/**
 * Orders whose duplicates and reissues lists echo, as DigiCert's sometimes do (for any seed; issued, with a primary
 * certificate and at least two duplicates and two reissues), each with one shape:
 *
 * - `99000001`: the duplicates list starts with the order's own certificate;
 * - `99000002`: the duplicates list ends with its first entry again;
 * - `99000003`: the reissues list starts with the order's own certificate and ends with its first entry again;
 * - `99000004`: both lists end with the order's own certificate.
 *
 * No other id echoes, and none of these is in a generated account: add them (`account`, `addOrders`) to test folding.
 *
 * @since 0.2.0
 * @category constants
 */
export const echoOrderIds: ReadonlyArray<number> = [99_000_001, 99_000_002, 99_000_003, 99_000_004]

const isEcho = (id: number): boolean => echoOrderIds.includes(id)

/** The facts shared by the three endpoints of one order: cheap, recomputed on each request. */
const order = (seed: number, id: number): Order => {
  const random = Random.make(Random.hash(seed, id, 1))
  const drawn = Random.weighted(random, orderStatuses)
  const status = isEcho(id) ? "issued" : drawn
  const subSubaccount = random() < 0.1 && !isEcho(id)
  const product = Random.pick(random, products)
  const domain = Random.pick(random, domains)
  const commonName = product.name_id === "ssl_wildcard"
    ? `*.${Random.pick(random, words)}${id % 1000}.${domain}`
    : `${Random.pick(random, words)}${id % 1000}.${domain}`
  const bare = commonName.replace(/^\*\./, "")
  const extra = Random.weighted(random, [[0, 4], [1, 3], [2, 2], [5, 1]] as const)
  const dnsNames = [commonName, ...Array.from({ length: extra }, (_, i) => `${Random.pick(random, words)}${i}.${bare}`)]
  const validityYears = Random.weighted(random, [[1, 8], [2, 2]] as const)
  const lifetime = validityYears * 365 * DAY
  const issuedLike = status === "issued" || status === "revoked" || status === "reissue_pending"
  // issued orders are still valid on the reference day, expired ones ended before it, others anywhere in 2016-2024
  const start = issuedLike
    ? REFERENCE_DAY - Random.int(random, 10, 360) * DAY
    : status === "expired"
    ? REFERENCE_DAY - lifetime - Random.int(random, 1, 900) * DAY
    : EPOCH + Random.int(random, 0, 8 * 365) * DAY
  const created = start + Random.int(random, 0, DAY / 1000 - 1) * 1000
  const validFrom = start + Random.int(random, 0, 1) * DAY
  return {
    id,
    status,
    subSubaccount,
    product,
    commonName,
    dnsNames,
    created,
    validFrom,
    validTill: validFrom + lifetime + Random.int(random, 0, 5) * DAY,
    validityYears,
    certificateId: 100_000 + (id % 900_000_000) * 7 + Random.int(random, 0, 6),
    issuedLike: issuedLike || status === "expired"
  }
}

/** How many duplicates or reissues: mostly 0 to 3, sometimes more; none before the order was ever issued. */
const childCount = (random: Random.Random, o: Order): number => {
  const n = o.issuedLike
    ? Random.weighted(random, [[0, 45], [1, 25], [2, 12], [3, 8], [4, 4], [6, 3], [12, 1]] as const)
    : 0
  return isEcho(o.id) ? Math.max(2, n) : n
}

/** The echoes of {@link echoOrderIds}: the list as generated, then the shape of `orderId` applied to it. */
const withEchoes = (
  seed: number,
  orderId: number,
  endpoint: "duplicates" | "reissues",
  generated: Array<{ [key: string]: Json }>
): Array<{ [key: string]: Json }> => {
  const o = order(seed, orderId)
  // none archived, so that every shape shows without show_archived too
  const list = generated.map((c) => ({ ...c, archived: endpoint === "duplicates" ? "0" : 0 }))
  const primary = { ...list[0]!, id: o.certificateId }
  switch (echoOrderIds.indexOf(orderId)) {
    case 0:
      return endpoint === "duplicates" ? [primary, ...list] : list
    case 1:
      return endpoint === "duplicates" ? [...list, list[0]!] : list
    case 2:
      return endpoint === "reissues" ? [primary, ...list, list[0]!] : list
    case 3:
      return [...list, primary]
    default:
      return list
  }
}

const issuedFields = (random: Random.Random, created: number, o: Order, withValidFrom: boolean) => {
  const from = Math.max(created - (created % DAY), o.validFrom)
  const till = Math.max(o.validTill, from + 30 * DAY)
  return {
    thumbprint: Random.hex(random, 40),
    serial_number: Random.hex(random, 32),
    ...(withValidFrom ? { valid_from: isoDay(from) } : {}),
    valid_till: isoDay(till),
    days_remaining: Math.floor((till - REFERENCE_DAY) / DAY)
  }
}

/**
 * The full list of duplicates of an order (archived ones included), as the docs shape them: `ca_cert_id` one of
 * {@link caCerts}' ids (hex tokens included), `sub_id` zero-padded text.
 *
 * @since 0.1.0
 * @category generators
 */
export const allDuplicates = (seed: number, orderId: number): Array<{ [key: string]: Json }> => {
  const o = order(seed, orderId)
  const random = Random.make(Random.hash(seed, orderId, 2))
  const list = Array.from({ length: childCount(random, o) }, (_, i) => {
    const status = Random.weighted(random, duplicateStatuses)
    const created = o.created + Random.int(random, 1, 200) * 3_600_000 + Random.int(random, 0, 3599) * 1000
    const [firstname, lastname] = Random.pick(random, people)
    const [platformId, platformName] = Random.pick(random, platforms)
    const slug = platformName.replace(/\s+/g, "-")
    const issued = status === "issued" || status === "approved" ? issuedFields(random, created, o, true) : undefined
    return {
      id: o.certificateId + 1 + i,
      ...(issued !== undefined ? { thumbprint: issued.thumbprint, serial_number: issued.serial_number } : {}),
      common_name: o.commonName,
      dns_names: o.dnsNames.slice(0, Random.int(random, 1, o.dnsNames.length)),
      status,
      date_created: isoSeconds(created),
      ...(issued !== undefined
        ? { valid_from: issued.valid_from!, valid_till: issued.valid_till, days_remaining: issued.days_remaining }
        : {}),
      csr: csr(random),
      server_platform: {
        id: platformId,
        name: platformName,
        install_url: `http://www.digicert.com/ssl-certificate-installation-${slug}.htm`,
        csr_url: `http://www.digicert.com/csr-creation-${slug}.htm`
      },
      signature_hash: Random.weighted(random, [["sha256", 8], ["sha384", 1], ["sha512", 1]] as const),
      key_size: Random.weighted(random, [[2048, 7], [3072, 1], [4096, 2]] as const),
      ca_cert_id: Random.pick(random, caCerts).id,
      // DigiCert documents sub_id as a string; served zero-padded, as real bodies show ("001")
      sub_id: String(Random.int(random, 1, 999)).padStart(3, "0"),
      public_id: Random.hex(random, 16).toLowerCase(),
      archived: random() < 0.15 ? "1" : "0",
      user_id: Random.int(random, 1, 5000),
      firstname,
      lastname
    }
  })
  return isEcho(orderId) ? withEchoes(seed, orderId, "duplicates", list) : list
}

/**
 * The full list of reissues of an order (archived ones included). `archived` is absent on about a third and an
 * integer 0/1 on the rest, as the reissue docs type it; issued reissues carry `date_issued`.
 *
 * @since 0.1.0
 * @category generators
 */
export const allReissues = (seed: number, orderId: number): Array<{ [key: string]: Json }> => {
  const o = order(seed, orderId)
  const random = Random.make(Random.hash(seed, orderId, 3))
  const count = childCount(random, o) + (o.status === "reissue_pending" ? 1 : 0)
  const list = Array.from({ length: count }, (_, i) => {
    // the reissue an order is waiting for is its last one, still pending
    const status = o.status === "reissue_pending" && i === count - 1
      ? "pending"
      : Random.weighted(random, reissueStatuses)
    const created = o.created + Random.int(random, 1, 300) * 3_600_000 + Random.int(random, 0, 3599) * 1000
    const [firstname, lastname] = Random.pick(random, people)
    const issued = status === "issued" ? issuedFields(random, created, o, false) : undefined
    const charged = random() < 0.4
    const archived = random()
    return {
      id: o.certificateId + 101 + i,
      ...(issued !== undefined ? { thumbprint: issued.thumbprint, serial_number: issued.serial_number } : {}),
      common_name: o.commonName,
      dns_names: o.dnsNames,
      status,
      date_created: isoSeconds(created),
      // issued reissues only (the docs omit it for pending and rejected ones); no extra draw, so other fields stay put
      ...(issued !== undefined
        ? { date_issued: isoSeconds(created + (60 + (o.certificateId + i) % 7200) * 1000) }
        : {}),
      ...(issued !== undefined ? { valid_till: issued.valid_till, days_remaining: issued.days_remaining } : {}),
      csr: csr(random),
      key_size: Random.weighted(random, [[2048, 7], [3072, 1], [4096, 2]] as const),
      user_id: Random.int(random, 1, 5000),
      ...(random() < 0.8 ? { email: `${firstname}.${lastname}@example.com`.toLowerCase().replace(/'/g, "") } : {}),
      firstname,
      lastname,
      ...(charged
        ? {
          receipt_id: String(Random.int(random, 1000, 99_999_999)),
          purchased_dns_names: String(Random.int(random, 0, 5)),
          purchased_wildcard_names: String(Random.int(random, 0, 2))
        }
        : {}),
      ...(archived < 1 / 3 ? {} : { archived: archived < 0.85 ? 0 : 1 })
    }
  })
  return isEcho(orderId) ? withEchoes(seed, orderId, "reissues", list) : list
}

/**
 * One subaccount order: `certificate` and `organization` absent for sub-subaccount orders (about 10%),
 * `date_issued`/`order_valid_from`/`order_valid_till` only on issued orders, `is_multi_year_plan: "1"` only on some
 * multi-year plans, `assumed_name` on some organizations, certificate serial/thumbprint/validity only once issued,
 * the issuing CA as `certificate.ca_cert` (one of {@link caCerts}), and `subaccount_order_validations` only when
 * asked for.
 *
 * @since 0.1.0
 * @category generators
 */
export const subaccountOrder = (seed: number, orderId: number, query: Query): { [key: string]: Json } => {
  const o = order(seed, orderId)
  const random = Random.make(Random.hash(seed, orderId, 4))
  const issued = o.issuedLike ? issuedFields(random, o.created, o, true) : undefined
  const [orgName, assumedName] = Random.pick(random, organizations)
  const multiYear = o.validityYears > 1 || random() < 0.1
  const certificate = {
    id: o.certificateId,
    ...(issued !== undefined ? { thumbprint: issued.thumbprint, serial_number: issued.serial_number } : {}),
    common_name: o.commonName,
    dns_names: o.dnsNames,
    ...(issued !== undefined
      ? { valid_from: issued.valid_from!, valid_till: issued.valid_till, days_remaining: issued.days_remaining }
      : {}),
    ...(random() < 0.5 ? { organization_units: units.slice(0, Random.int(random, 1, 2)) } : {}),
    signature_hash: "sha256",
    // chosen from the id rather than drawn, so the other generated fields stay what they were
    ca_cert: caCerts[o.certificateId % caCerts.length]!
  }
  const organization = {
    id: Random.int(random, 100_000, 999_999),
    name: orgName,
    ...(assumedName !== undefined ? { assumed_name: assumedName } : {}),
    display_name: assumedName !== undefined ? `${orgName} (${assumedName})` : orgName
  }
  const isIssued = o.status === "issued"
  return {
    id: orderId,
    ...(o.subSubaccount ? {} : { certificate, organization }),
    subaccount: {
      account_id: Random.int(random, 100_000, 9_999_999),
      account_type: Random.weighted(random, [["enterprise", 8], ["retail", 2]] as const),
      organization_name: Random.pick(random, ["Sub account organization", "Example account", "EMEA Resellers"])
    },
    product: { name_id: o.product.name_id, name: o.product.name, type: o.product.type },
    order_price: { cost: o.product.cost * o.validityYears, currency: "USD" },
    status: o.status,
    ...(random() < 0.6 ? { number_of_sans: o.dnsNames.length } : {}),
    date_created: isoSeconds(o.created),
    ...(isIssued ? { date_issued: isoSeconds(o.created + Random.int(random, 2, 7200) * 1000) } : {}),
    ...(multiYear && random() < 0.7 ? { is_multi_year_plan: "1" } : {}),
    ...(isIssued ? { order_valid_from: isoDay(o.validFrom), order_valid_till: isoDay(o.validTill + DAY) } : {}),
    validity_years: o.validityYears,
    ...(query.includeValidationStatus ? { subaccount_order_validations: validations(o) } : {})
  }
}

// DigiCert's subaccount page does not list the members of `subaccount_order_validations`; these are the ones its
// "Validation status" endpoint documents for an order (see Samples.subaccountOrderValidations).
const validations = (o: Order): Json => {
  const dcv = o.issuedLike ? "approved" : o.status === "rejected" ? "rejected" : "pending"
  const ov = o.issuedLike ? "complete" : "pending"
  return {
    organization_validations: [
      o.product.name_id.includes("ev")
        ? { type: "ev", name: "EV", description: "Extended Organization Validation (EV)", status: ov }
        : { type: "ov", name: "OV", description: "Normal Organization Validation", status: ov }
    ],
    dns_name_validations: [{ dns_names: [...o.dnsNames], status: dcv, method: "email" }]
  }
}

const isArchived = (cert: { readonly [key: string]: Json }): boolean => cert.archived === "1" || cert.archived === 1

/**
 * The response body of an endpoint for an order id: the documented sample verbatim for the sample ids, generated
 * JSON otherwise.
 *
 * @since 0.1.0
 * @category rendering
 */
export const render = (endpoint: Endpoint, seed: number, orderId: number, query: Query): string => {
  const sample = sampleBody(endpoint, orderId, query)
  if (sample !== undefined) return sample
  switch (endpoint) {
    case "duplicates":
    case "reissues": {
      const all = endpoint === "duplicates" ? allDuplicates(seed, orderId) : allReissues(seed, orderId)
      return JSON.stringify({ certificates: query.showArchived ? all : all.filter((c) => !isArchived(c)) })
    }
    case "subaccountOrder":
      return JSON.stringify(subaccountOrder(seed, orderId, query))
  }
}

const sampleBody = (endpoint: Endpoint, orderId: number, query: Query): string | undefined => {
  const current = orderId === Samples.currentDocsOrderId
  if (!current && !Samples.orderIds.includes(orderId)) return undefined
  if (endpoint === "duplicates") return current ? Samples.duplicatesCurrent : Samples.duplicates
  if (endpoint === "reissues") return current ? Samples.reissuesCurrent : Samples.reissues
  const text = Samples.subaccountOrderFor(orderId)!
  // the samples stay verbatim unless the caller asked for the validations
  return query.includeValidationStatus
    ? text.slice(0, text.lastIndexOf("}")).trimEnd() +
      `,\n"subaccount_order_validations": ${Samples.subaccountOrderValidations}\n}`
    : text
}

/**
 * The same body with fields no documentation lists yet, on the top-level object and every nested object.
 *
 * @since 0.1.0
 * @category rendering
 */
export const withUnknownFields = (body: string): string => {
  const add = (value: unknown): unknown => {
    if (Array.isArray(value)) return value.map(add)
    if (value !== null && typeof value === "object") {
      const out: Record<string, unknown> = {}
      for (const [k, v] of Object.entries(value)) out[k] = add(v)
      out.x_future_field = { added_in: "v3", flags: [1, "two", null] }
      out.future_flag = true
      return out
    }
    return value
  }
  return JSON.stringify(add(JSON.parse(body)))
}

/**
 * The same body with a `status` value no documentation lists (`statusValue`): on the order, or on every listed
 * certificate. A list with no certificates is returned unchanged.
 *
 * @since 0.1.0
 * @category rendering
 */
export const withUnknownStatus = (body: string, statusValue: string): string => {
  const value = JSON.parse(body) as Record<string, unknown>
  if (Array.isArray(value.certificates)) {
    value.certificates = value.certificates.map((c: Record<string, unknown>) => ({ ...c, status: statusValue }))
  } else {
    value.status = statusValue
  }
  return JSON.stringify(value)
}
