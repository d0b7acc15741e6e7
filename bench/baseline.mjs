// The script a user would write instead of the library: plain fetch, a fixed pool, papaparse, no retries or schemas.
/* global fetch, process */
// usage: DIGICERT_API_KEY=... node bench/baseline.mjs ORDERS_FILE OUTPUT_CSV BASE_URL CONCURRENCY
import * as fs from "node:fs"
import Papa from "papaparse"

const [ordersFile, output, baseUrl, concurrency] = process.argv.slice(2)
const headers = { "X-DC-DEVKEY": process.env["DIGICERT_API_KEY"] ?? "", Accept: "application/json" }
const get = (path) => fetch(`${baseUrl}${path}`, { headers }).then((r) => r.json())
const ids = fs.readFileSync(ordersFile, "utf8").split(/\r?\n/).filter((line) => line.trim() !== "")
const columns = "order_id,source,certificate_id,common_name,dns_names,status,serial_number,thumbprint,valid_from," +
  "valid_till,days_remaining,date_created,date_issued,signature_hash,key_size,server_platform,ca_cert_id," +
  "requester_user_id,requester_name,requester_email,receipt_id,purchased_dns_names,purchased_wildcard_names,archived," +
  "order_status,order_date_created,order_date_issued,order_valid_from,order_valid_till,validity_years," +
  "is_multi_year_plan,product_name_id,product_name,product_type,order_cost,order_currency,organization_id," +
  "organization_name,organization_display_name,organization_units,subaccount_id,subaccount_type," +
  "subaccount_organization_name"
const cert = (source, c, status) => ({
  source,
  certificate_id: c?.id,
  common_name: c?.common_name,
  dns_names: c?.dns_names?.join(";"),
  status,
  serial_number: c?.serial_number,
  thumbprint: c?.thumbprint,
  valid_from: c?.valid_from,
  valid_till: c?.valid_till,
  days_remaining: c?.days_remaining,
  date_created: c?.date_created,
  signature_hash: c?.signature_hash,
  key_size: c?.key_size,
  server_platform: c?.server_platform?.name,
  ca_cert_id: c?.ca_cert_id,
  requester_user_id: c?.user_id,
  requester_name: c?.firstname && `${c.firstname} ${c.lastname}`,
  requester_email: c?.email,
  receipt_id: c?.receipt_id,
  purchased_dns_names: c?.purchased_dns_names,
  purchased_wildcard_names: c?.purchased_wildcard_names,
  archived: c?.archived === undefined ? "" : c.archived == 1
})
const rowsOf = (id, o, dups, reissues) => {
  const order = {
    order_id: id,
    order_status: o.status,
    order_date_created: o.date_created,
    order_date_issued: o.date_issued,
    order_valid_from: o.order_valid_from,
    order_valid_till: o.order_valid_till,
    validity_years: o.validity_years,
    is_multi_year_plan: o.is_multi_year_plan === "1",
    product_name_id: o.product?.name_id,
    product_name: o.product?.name,
    product_type: o.product?.type,
    order_cost: o.order_price?.cost,
    order_currency: o.order_price?.currency,
    organization_id: o.organization?.id,
    organization_name: o.organization?.name,
    organization_display_name: o.organization?.display_name,
    organization_units: o.certificate?.organization_units?.join(";"),
    subaccount_id: o.subaccount?.account_id,
    subaccount_type: o.subaccount?.account_type,
    subaccount_organization_name: o.subaccount?.organization_name
  }
  return [{ ...order, ...cert("order", o.certificate, ""), date_issued: o.date_issued }]
    .concat(dups.certificates.map((c) => ({ ...order, ...cert("duplicate", c, c.status) })))
    .concat(reissues.certificates.map((c) => ({ ...order, ...cert("reissue", c, c.status) })))
}
const out = fs.createWriteStream(output)
out.write(columns + "\r\n")
const results = []
let next = 0, written = 0
const flush = () => {
  for (; results[written] !== undefined; written++) {
    out.write(Papa.unparse(results[written], { header: false, columns: columns.split(",") }) + "\r\n")
    results[written] = undefined
  }
}
const worker = async () => {
  for (let i = next++; i < ids.length; i = next++) {
    const id = ids[i].trim()
    const [o, d, r] = await Promise.all([
      get(`/account/subaccount/order/${id}`),
      get(`/order/certificate/${id}/duplicate`),
      get(`/order/certificate/${id}/reissue`)
    ])
    results[i] = rowsOf(id, o, d, r)
    flush()
  }
}
await Promise.all(Array.from({ length: Number(concurrency) }, worker))
out.end()
