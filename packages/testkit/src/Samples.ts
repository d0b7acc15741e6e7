/**
 * The sample responses from DigiCert's endpoint docs, kept byte for byte as the docs print them (no indentation, the
 * docs' own spacing such as `"receipt_id":"1234"`), and the order ids the server answers with them.
 *
 * @since 0.1.0
 */

/**
 * Order served with the subaccount sample 1 (pending order with a certificate and an organization).
 *
 * @since 0.1.0
 * @category ids
 */
export const pendingOrderId = 123456

/**
 * Order served with the subaccount sample 2 (issued order, multi-year plan).
 *
 * @since 0.1.0
 * @category ids
 */
export const issuedOrderId = 12345678

/**
 * Order served with the subaccount sample 3 (a sub-subaccount's order: no `certificate`, no `organization`).
 * The documented body says `"id": 123456`; it is served unchanged.
 *
 * @since 0.1.0
 * @category ids
 */
export const subSubaccountOrderId = 1234567

/**
 * Every order id answered with documented samples; for each of them the duplicate and reissue endpoints serve
 * {@link duplicates} and {@link reissues} verbatim.
 *
 * @since 0.1.0
 * @category ids
 */
export const orderIds: ReadonlyArray<number> = [pendingOrderId, issuedOrderId, subSubaccountOrderId]

/**
 * "List duplicates" sample response: an approved, a rejected and a pending duplicate.
 *
 * @since 0.1.0
 * @category samples
 */
export const duplicates = `{
"certificates": [
{
"id": 12345,
"thumbprint": "<thumbprint>",
"serial_number": "<serial_number>",
"common_name": "example.com",
"dns_names": [
"sub.example.com"
],
"status": "approved",
"date_created": "2016-03-25T21:01:40+00:00",
"valid_from": "2016-03-23",
"valid_till": "2019-03-28",
"days_remaining": 111,
"csr": "<csr>",
"server_platform": {
"id": 45,
"name": "nginx",
"install_url": "http://www.digicert.com/ssl-certificate-installation-nginx.htm",
"csr_url": "http://www.digicert.com/csr-creation-nginx.htm"
},
"signature_hash": "sha256",
"key_size": 2048,
"ca_cert_id": "1005",
"sub_id": "111",
"public_id": "<public_id>",
"archived": "0",
"user_id": 2,
"firstname": "Jan",
"lastname": "Sport"
},
{
"id": 23456,
"common_name": "anewdomain.com",
"dns_names": [
"sub.anewdomain.com"
],
"status": "rejected",
"date_created": "2018-11-14T19:57:09+00:00",
"csr": "<csr>",
"server_platform": {
"id": 45,
"name": "nginx",
"install_url": "http://www.digicert.com/ssl-certificate-installation-nginx.htm",
"csr_url": "http://www.digicert.com/csr-creation-nginx.htm"
},
"signature_hash": "sha256",
"key_size": 2048,
"ca_cert_id": "1005",
"sub_id": "112",
"public_id": "<public_id>",
"archived": "0",
"user_id": 5,
"firstname": "John",
"lastname": "Someone"
},
{
"id": 34567,
"common_name": "example.net",
"dns_names": [
"sub.example.net"
],
"status": "pending",
"date_created": "2018-11-15T22:41:43+00:00",
"csr": "<csr>",
"server_platform": {
"id": 45,
"name": "nginx",
"install_url": "http://www.digicert.com/ssl-certificate-installation-nginx.htm",
"csr_url": "http://www.digicert.com/csr-creation-nginx.htm"
},
"signature_hash": "sha256",
"key_size": 2048,
"ca_cert_id": "1005",
"sub_id": "113",
"public_id": "<public_id>",
"archived": "0",
"user_id": 12,
"firstname": "Jill",
"lastname": "Valentine"
}
]
}`

/**
 * "List reissues" sample response: an issued, a rejected and a pending reissue.
 *
 * @since 0.1.0
 * @category samples
 */
export const reissues = `{
"certificates": [
{
"id": 12345,
"thumbprint": "<thumbprint>",
"serial_number": "<serial_number>",
"common_name": "example.com",
"dns_names": [
"yourexample.com",
"anotherexample.com",
"*.myexample.com"
],
"status": "issued",
"date_created": "2019-04-08T17:33:26+00:00",
"valid_till": "2020-04-08",
"days_remaining": 267,
"csr": "<csr>",
"key_size": 2048,
"user_id": 1576,
"email": "logan.nelson@example.com",
"firstname": "Logan",
"lastname": "Nelson",
"receipt_id":"1234",
"purchased_dns_names":"2",
"purchased_wildcard_names":"1"
},
{
"id": 23456,
"common_name": "anewdomain.com",
"dns_names": [
"anewdomain.com"
],
"status": "rejected",
"date_created": "2018-11-14T19:57:09+00:00",
"csr": "<csr>",
"key_size": 2048,
"user_id": 1576,
"email": "logan.nelson@example.com",
"firstname": "Logan",
"lastname": "Nelson"
},
{
"id": 34567,
"common_name": "example.net",
"dns_names": [
"example.net"
],
"status": "pending",
"date_created": "2018-11-15T22:41:43+00:00",
"csr": "<csr>",
"key_size": 2048,
"user_id": 1576,
"email": "logan.nelson@example.com",
"firstname": "Logan",
"lastname": "Nelson"
}
]
}`

/**
 * "Subaccount order info" sample 1, served for {@link pendingOrderId}.
 *
 * @since 0.1.0
 * @category samples
 */
export const subaccountOrderPending = `{
"id": 123456,
"certificate": {
"id": 101015,
"common_name": "example.com",
"dns_names": [
"sub.example.com"
],
"organization_units": [
"Sales department"
],
"signature_hash": "sha256"
},
"organization": {
"id": 334455,
"name": "Real Organization, LLC",
"assumed_name": "Real Organization",
"display_name": "Real Organization, LLC (Real Organization)"
},
"subaccount": {
"account_id": 123445,
"account_type": "enterprise",
"organization_name": "Sub account organization"
},
"product": {
"name_id": "ssl_securesite",
"name": "Secure Site SSL",
"type": "ssl_certificate"
},
"order_price": {
"cost": 399,
"currency": "USD"
},
"status": "pending",
"number_of_sans": 1,
"date_created": "2019-06-21T09:06:47+00:00",
"validity_years": 1
}`

/**
 * "Subaccount order info" sample 2, served for {@link issuedOrderId}.
 *
 * @since 0.1.0
 * @category samples
 */
export const subaccountOrderIssued = `{
"id": 12345678,
"certificate": {
"id": 34567891,
"thumbprint": "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX70C5B",
"serial_number": "XXXXXXXXXXXXXXXXXXXXXXXXXXXXXC5F",
"common_name": "example.com",
"dns_names": [
"example.com"
],
"valid_from": "2020-10-14",
"valid_till": "2021-10-18",
"days_remaining": 286,
"signature_hash": "sha256"
},
"organization": {
"id": 123456,
"name": "Example Organization",
"display_name": "Example Organization"
},
"subaccount": {
"account_id": 2345678,
"account_type": "enterprise",
"organization_name": "Example account"
},
"product": {
"name_id": "ssl_basic",
"name": "Basic OV",
"type": "ssl_certificate"
},
"order_price": {
"cost": 358,
"currency": "USD"
},
"status": "issued",
"date_created": "2020-10-14T15:18:50+00:00",
"date_issued": "2020-10-14T15:18:52+00:00",
"is_multi_year_plan": "1",
"order_valid_from": "2020-10-14",
"order_valid_till": "2021-10-19",
"validity_years": 1
}`

/**
 * "Subaccount order info" sample 3, served for {@link subSubaccountOrderId}.
 *
 * @since 0.1.0
 * @category samples
 */
export const subaccountOrderSubSubaccount = `{
"id": 123456,
"subaccount": {
"account_id": 123445,
"account_type": "enterprise",
"organization_name": "Sub account organization"
},
"product": {
"name_id": "ssl_plus",
"name": "Standard SSL",
"type": "ssl_certificate"
},
"order_price": {
"cost": 198,
"currency": "USD"
},
"status": "pending",
"number_of_sans": 1,
"date_created": "2019-05-07T09:33:08+00:00",
"validity_years": 1
}`

/**
 * Order served with the samples written from DigiCert's current doc pages ({@link duplicatesCurrent},
 * {@link reissuesCurrent}, {@link subaccountOrderCurrent}). Not one of {@link orderIds}, whose samples stay as the
 * older docs print them.
 *
 * @since 0.2.0
 * @category ids
 */
export const currentDocsOrderId = 1234560

/**
 * "List duplicates" written from the current docs' field table (`ca_cert_id`, `sub_id`, `public_id` and `archived`
 * are all documented as strings), with the values other public projects' test bodies show: a CA certificate id that
 * is a hex token and a zero-padded `sub_id`.
 *
 * @since 0.2.0
 * @category samples
 */
export const duplicatesCurrent = `{
"certificates": [
{
"id": 45678,
"thumbprint": "<thumbprint>",
"serial_number": "<serial_number>",
"common_name": "example.com",
"dns_names": [
"sub.example.com"
],
"status": "issued",
"date_created": "2021-03-25T21:01:40+00:00",
"valid_from": "2021-03-25",
"valid_till": "2022-03-28",
"days_remaining": 111,
"csr": "<csr>",
"server_platform": {
"id": 45,
"name": "nginx",
"install_url": "http://www.digicert.com/ssl-certificate-installation-nginx.htm",
"csr_url": "http://www.digicert.com/csr-creation-nginx.htm"
},
"signature_hash": "sha256",
"key_size": 2048,
"ca_cert_id": "B71DCBAF5586D6D95FC0B7EA1C74ADEF4A99F960",
"sub_id": "001",
"public_id": "<public_id>",
"archived": "0",
"user_id": 2,
"firstname": "Jan",
"lastname": "Sport"
}
]
}`

/**
 * "List reissues" as the current docs document it: `date_issued` on issued reissues only ("omitted for pending and
 * rejected reissues") and `archived` as an integer. The issued reissue is the current docs' own sample; the pending
 * one is written from the field table.
 *
 * @since 0.2.0
 * @category samples
 */
export const reissuesCurrent = `{
"certificates": [
{
"id": 12345,
"thumbprint": "<thumbprint>",
"serial_number": "<serial_number>",
"common_name": "example.com",
"dns_names": [
"sub.example.com",
"*.example.org"
],
"status": "issued",
"date_created": "2019-04-08T17:33:26+00:00",
"date_issued": "2019-04-08T18:31:16+00:00",
"valid_till": "2020-04-08",
"days_remaining": 267,
"csr": "<csr>",
"key_size": 2048,
"archived": 0,
"user_id": 1576,
"email": "logan.nelson@example.com",
"firstname": "Logan",
"lastname": "Nelson",
"receipt_id":"1234",
"purchased_dns_names":"2",
"purchased_wildcard_names":"1"
},
{
"id": 34567,
"common_name": "example.net",
"dns_names": [
"example.net"
],
"status": "pending",
"date_created": "2019-11-15T22:41:43+00:00",
"csr": "<csr>",
"key_size": 2048,
"archived": 0,
"user_id": 1576,
"email": "logan.nelson@example.com",
"firstname": "Logan",
"lastname": "Nelson"
}
]
}`

/**
 * "Subaccount order info" sample 1 as the current docs print it: the certificate names its issuing CA
 * (`certificate.ca_cert`, `id` and `name` both strings). Served for {@link currentDocsOrderId}.
 *
 * @since 0.2.0
 * @category samples
 */
export const subaccountOrderCurrent = `{
"id": 123456,
"certificate": {
"id": 101015,
"common_name": "example.com",
"dns_names": [
"sub.example.com"
],
"signature_hash": "sha256",
"ca_cert": {
"id": "A937018B9FAF6CC2",
"name": "DigiCert Global G2 TLS RSA SHA256 2020 CA1"
}
},
"organization": {
"id": 334455,
"name": "Real Organization, LLC",
"assumed_name": "Real Organization",
"display_name": "Real Organization, LLC (Real Organization)"
},
"subaccount": {
"account_id": 123445,
"account_type": "enterprise",
"organization_name": "Sub account organization"
},
"product": {
"name_id": "ssl_securesite",
"name": "Secure Site SSL",
"type": "ssl_certificate"
},
"order_price": {
"cost": 399,
"currency": "USD"
},
"status": "pending",
"number_of_sans": 1,
"date_created": "2019-06-21T09:06:47+00:00",
"validity_years": 1
}`

/**
 * What the server adds to a subaccount order as `subaccount_order_validations` when asked with
 * `include_validation_status=true`. DigiCert's subaccount page documents it only as an object with "details about the
 * status of domain and organization validations for the order"; the members here are those DigiCert documents for
 * an order's validation status ("Validation status" endpoint: `organization_validations`, `dns_name_validations`).
 * Clients should keep it as opaque JSON.
 *
 * @since 0.2.0
 * @category samples
 */
export const subaccountOrderValidations =
  `{"organization_validations": [{"type": "ov", "name": "OV", "description": "Normal Organization Validation", ` +
  `"status": "complete"}], "dns_name_validations": [{"dns_names": ["example.com"], "status": "approved", ` +
  `"method": "email"}]}`

/**
 * The subaccount order sample served for an order id, if it is one of {@link orderIds} or
 * {@link currentDocsOrderId}.
 *
 * @since 0.1.0
 * @category samples
 */
export const subaccountOrderFor = (orderId: number): string | undefined =>
  orderId === pendingOrderId
    ? subaccountOrderPending
    : orderId === issuedOrderId
    ? subaccountOrderIssued
    : orderId === subSubaccountOrderId
    ? subaccountOrderSubSubaccount
    : orderId === currentDocsOrderId
    ? subaccountOrderCurrent
    : undefined
