/**
 * The base URL of DigiCert's Services API v2: one Schema that the client's options, `layerConfig`, the CLI's
 * `--base-url` and `DIGICERT_BASE_URL` all check with, so the rule and its messages exist once.
 *
 * @since 0.2.0
 */
import * as Either from "effect/Either"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

/**
 * DigiCert's regional base URLs for the Services API v2.
 *
 * @since 0.2.0
 * @category constants
 */
export const regions: {
  readonly us: "https://www.digicert.com/services/v2"
  readonly eu: "https://certcentral.digicert.eu/services/v2"
} = {
  us: "https://www.digicert.com/services/v2",
  eu: "https://certcentral.digicert.eu/services/v2"
}

/**
 * A CertCentral region: `"us"` (the default) or `"eu"`, each with its own base URL and its own API keys.
 *
 * @since 0.2.0
 * @category models
 */
export type Region = keyof typeof regions

/**
 * The regions as a Schema (`"us" | "eu"`).
 *
 * @since 0.2.0
 * @category schemas
 */
export const Region: Schema.Literal<["us", "eu"]> = Schema.Literal("us", "eu")

/**
 * Why a text is not a usable base URL, as a short sentence (`undefined` when it is one).
 *
 * @since 0.2.0
 * @category validation
 */
export const problem = (text: string): string | undefined => {
  let url: URL
  try {
    url = new URL(text)
  } catch {
    return `is not a URL: ${JSON.stringify(text.slice(0, 100))}`
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") return "must be an http(s) URL"
  if (url.username !== "" || url.password !== "" || url.search !== "" || url.hash !== "") {
    return "must not carry credentials, a query or a fragment"
  }
  return undefined
}

/**
 * A base URL: decoding trims surrounding space, checks that it is an http(s) URL without credentials, query or
 * fragment, and drops trailing slashes (`https://host/services/v2/` becomes `https://host/services/v2`).
 *
 * @example
 * ```ts
 * import { BaseUrl } from "@certcentral/core"
 * import { Schema } from "effect"
 *
 * assert.strictEqual(Schema.decodeSync(BaseUrl.BaseUrl)(" http://127.0.0.1:8080/services/v2/ "), "http://127.0.0.1:8080/services/v2")
 * assert.throws(() => Schema.decodeSync(BaseUrl.BaseUrl)("ftp://example.com"))
 * ```
 *
 * @since 0.2.0
 * @category schemas
 */
export const BaseUrl: Schema.Schema<string> = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (text, _, ast) => {
    const trimmed = text.trim()
    const why = problem(trimmed)
    return why === undefined
      ? ParseResult.succeed(new URL(trimmed).toString().replace(/\/+$/, ""))
      : ParseResult.fail(new ParseResult.Type(ast, text, `base URL ${why}`))
  },
  encode: ParseResult.succeed
}).annotations({ identifier: "BaseUrl" })

/**
 * Checks a base URL: the normalised URL, or a one-line message naming `from` (a flag or a variable name).
 *
 * @since 0.2.0
 * @category validation
 */
export const validate = (text: string, from: string): Either.Either<string, string> => {
  const trimmed = text.trim()
  const why = problem(trimmed)
  return why === undefined
    ? Either.right(new URL(trimmed).toString().replace(/\/+$/, ""))
    : Either.left(`${from} ${why}`)
}

/**
 * The base URL a client uses: `baseUrl` when given, else the region's (US by default).
 *
 * @since 0.2.0
 * @category constructors
 */
export const resolve = (
  options: { readonly baseUrl?: string | undefined; readonly region?: Region | undefined }
): Either.Either<string, string> =>
  options.baseUrl !== undefined
    ? validate(options.baseUrl, "CertCentral base URL")
    : options.region === undefined || options.region in regions
    ? Either.right(regions[options.region ?? "us"])
    : Either.left(`unknown CertCentral region ${JSON.stringify(options.region)}: use "us" or "eu"`)
