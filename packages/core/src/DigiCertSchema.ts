/**
 * Schemas for the way DigiCert encodes values on the wire: numeric strings, `"0"`/`"1"` flags, calendar dates and
 * UTC timestamps. Each decodes to a real type and encodes back to DigiCert's exact text.
 *
 * @since 0.1.0
 */
import * as DateTime from "effect/DateTime"
import * as ParseResult from "effect/ParseResult"
import * as Schema from "effect/Schema"

const DATE_RE = /^(\d{4})-(\d{2})-(\d{2})$/
const TIMESTAMP_RE = /^(\d{4})-(\d{2})-(\d{2})[T ](\d{2}):(\d{2}):(\d{2})(\.\d{1,9})?(Z|[+-]\d{2}:?\d{2})$/

const pad = (n: number, width = 2): string => String(n).padStart(width, "0")

// Arbitraries on the decoded side produce only values the encoded text can represent exactly, so that the
// property decode(encode(x)) = x holds for generated values.
const MIN_SECONDS = Date.UTC(1990, 0, 1) / 1000
const MAX_SECONDS = Date.UTC(2099, 11, 31) / 1000

const UtcWholeSeconds = Schema.DateTimeUtcFromSelf.annotations({
  arbitrary: () => (fc) =>
    fc.integer({ min: MIN_SECONDS, max: MAX_SECONDS }).map((s) => DateTime.unsafeMake(s * 1000) as DateTime.Utc)
})

const UtcMidnight = Schema.DateTimeUtcFromSelf.annotations({
  arbitrary: () => (fc) =>
    fc.integer({ min: MIN_SECONDS / 86400, max: MAX_SECONDS / 86400 }).map((d) =>
      DateTime.unsafeMake(d * 86_400_000) as DateTime.Utc
    )
})

/**
 * A calendar date as DigiCert writes it (`2019-03-28`), decoded to a `DateTime.Utc` at midnight UTC and encoded
 * back to the same `yyyy-MM-dd` text.
 *
 * @since 0.1.0
 * @category dates
 */
export const CalendarDate: Schema.Schema<DateTime.Utc, string> = Schema.transformOrFail(
  Schema.String,
  UtcMidnight,
  {
    strict: true,
    decode: (text, _, ast) => {
      const m = DATE_RE.exec(text)
      if (m !== null) {
        const year = Number(m[1]), month = Number(m[2]), day = Number(m[3])
        const millis = Date.UTC(year, month - 1, day)
        const date = new Date(millis)
        // Date.UTC rolls 2019-02-30 over to March: reject instead of inventing a different day.
        if (date.getUTCFullYear() === year && date.getUTCMonth() === month - 1 && date.getUTCDate() === day) {
          return ParseResult.succeed(DateTime.unsafeMake(millis) as DateTime.Utc)
        }
      }
      return ParseResult.fail(
        new ParseResult.Type(ast, text, `Expected a date as yyyy-MM-dd, got ${JSON.stringify(text)}`)
      )
    },
    encode: (dt) => {
      const d = DateTime.toDateUtc(dt)
      return ParseResult.succeed(`${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`)
    }
  }
).annotations({ identifier: "CalendarDate" })

/**
 * A timestamp as DigiCert writes it (ISO 8601 with an offset, `2019-04-08T17:33:26+00:00`), decoded to a
 * `DateTime.Utc` and encoded as `yyyy-MM-ddTHH:mm:ss+00:00`, DigiCert's own form. A timestamp sent with another
 * offset decodes to the same instant and encodes in UTC.
 *
 * @since 0.1.0
 * @category dates
 */
export const Timestamp: Schema.Schema<DateTime.Utc, string> = Schema.transformOrFail(
  Schema.String,
  UtcWholeSeconds,
  {
    strict: true,
    decode: (text, _, ast) => {
      const m = TIMESTAMP_RE.exec(text)
      if (m !== null) {
        const offset = m[8] === "Z" ? "+00:00" : m[8]!.length === 5 ? `${m[8]!.slice(0, 3)}:${m[8]!.slice(3)}` : m[8]
        const millis = Date.parse(`${m[1]}-${m[2]}-${m[3]}T${m[4]}:${m[5]}:${m[6]}${m[7] ?? ""}${offset}`)
        if (Number.isFinite(millis)) return ParseResult.succeed(DateTime.unsafeMake(millis) as DateTime.Utc)
      }
      return ParseResult.fail(
        new ParseResult.Type(ast, text, `Expected an ISO 8601 timestamp with offset, got ${JSON.stringify(text)}`)
      )
    },
    encode: (dt) => {
      const d = DateTime.toDateUtc(dt)
      const ms = d.getUTCMilliseconds()
      return ParseResult.succeed(
        `${pad(d.getUTCFullYear(), 4)}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}T${pad(d.getUTCHours())}:${
          pad(d.getUTCMinutes())
        }:${pad(d.getUTCSeconds())}${ms === 0 ? "" : `.${pad(ms, 3)}`}+00:00`
      )
    }
  }
).annotations({ identifier: "Timestamp" })

const NonNegativeInt = Schema.Int.pipe(Schema.nonNegative(), Schema.lessThanOrEqualTo(Number.MAX_SAFE_INTEGER))

/**
 * A non-negative integer that DigiCert sends as a numeric string (`"1005"`, `"2"`). A plain JSON number is accepted
 * too, since DigiCert is not consistent across endpoints. Encodes back to the string form.
 *
 * @since 0.1.0
 * @category numbers
 */
export const NumericString: Schema.Schema<number, string | number> = Schema.transformOrFail(
  Schema.Union(Schema.String, Schema.Number),
  NonNegativeInt,
  {
    strict: true,
    decode: (input, _, ast) => {
      if (typeof input === "number") return ParseResult.succeed(input)
      if (/^\d{1,16}$/.test(input)) return ParseResult.succeed(Number(input))
      return ParseResult.fail(
        new ParseResult.Type(ast, input, `Expected a numeric string, got ${JSON.stringify(input)}`)
      )
    },
    encode: (n) => ParseResult.succeed(String(n))
  }
).annotations({ identifier: "NumericString" })

/**
 * An identifier DigiCert documents as a string (`ca_cert_id`, `sub_id`, `public_id`, `receipt_id`): kept as the API's
 * text exactly, whatever it holds (`"1005"`, `"001"`, `"A937018B9FAF6CC2"`), and encoded back unchanged. An integer
 * sent where text is documented is accepted and kept as its decimal text (`1005` becomes `"1005"`).
 *
 * @since 0.2.0
 * @category identifiers
 */
export const Identifier: Schema.Schema<string, string | number> = Schema.transformOrFail(
  Schema.Union(Schema.String, Schema.Number),
  Schema.String,
  {
    strict: true,
    decode: (input, _, ast) => {
      if (typeof input === "string") return ParseResult.succeed(input)
      if (Number.isSafeInteger(input)) return ParseResult.succeed(String(input))
      return ParseResult.fail(
        new ParseResult.Type(ast, input, `Expected an identifier as text or an integer, got ${input}`)
      )
    },
    encode: (text) => ParseResult.succeed(text)
  }
).annotations({ identifier: "Identifier" })

/**
 * A `0`/`1` flag exactly as DigiCert sent it: the strings `"0"`/`"1"` (as "list duplicates" documents `archived`) or
 * the integers `0`/`1` (as "list reissues" does). Decoding keeps the value, so encoding gives back the same form;
 * read it with {@link isSet}.
 *
 * @since 0.2.0
 * @category booleans
 */
export const WireFlag = Schema.Literal("0", "1", 0, 1).annotations({ identifier: "WireFlag" })

/**
 * The type of a {@link WireFlag}: `"0" | "1" | 0 | 1`.
 *
 * @since 0.2.0
 * @category booleans
 */
export type WireFlag = typeof WireFlag.Type

/**
 * Whether a {@link WireFlag} is set (`"1"` or `1`).
 *
 * @since 0.2.0
 * @category booleans
 */
export const isSet = (flag: WireFlag): boolean => flag === "1" || flag === 1

/**
 * A boolean that DigiCert sends as `"0"`/`"1"` (and on some endpoints as the integers `0`/`1`). Encodes to the
 * string form.
 *
 * @since 0.1.0
 * @category booleans
 */
export const Flag: Schema.Schema<boolean, "0" | "1" | 0 | 1> = Schema.transform(
  Schema.Literal("0", "1", 0, 1),
  Schema.Boolean,
  {
    strict: true,
    decode: (flag) => flag === "1" || flag === 1,
    encode: (b): "0" | "1" => (b ? "1" : "0")
  }
).annotations({ identifier: "Flag" })

/**
 * Builds a status schema that names the documented values but admits any other string, because DigiCert adds
 * statuses over time and an unknown one must never fail a decode. Use {@link isKnown} to narrow.
 *
 * @since 0.1.0
 * @category statuses
 */
export const openEnum = <const Known extends ReadonlyArray<string>>(identifier: string, ...known: Known) => {
  const literals = Schema.Literal(...known)
  const schema = Schema.Union(literals, Schema.String).annotations({ identifier })
  return Object.assign(schema, { known: literals })
}

/**
 * Tells whether a status is one of the values an open enum documents.
 *
 * @since 0.1.0
 * @category statuses
 */
export const isKnown = <A extends string>(
  schema: { readonly known: Schema.Schema<A> },
  value: string
): value is A => Schema.is(schema.known)(value)

/**
 * A field DigiCert may leave out: absent when missing, and `null` is read as absent too, since an unset value may
 * be sent either way. The decoded property is exactly optional (never present with `undefined`).
 *
 * @since 0.1.0
 * @category fields
 */
export const optional = <S extends Schema.Schema.All>(schema: S) =>
  Schema.optionalWith(schema, { exact: true, nullable: true })
