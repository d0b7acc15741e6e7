/**
 * A short, stable description of a file-system error: its code (`ENOENT`, `EACCES`) when it has one, also when it
 * comes wrapped in a platform `SystemError`.
 */
export const describe = (e: unknown): string => {
  const error = e as { readonly code?: unknown; readonly cause?: unknown; readonly _tag?: unknown } | undefined
  if (typeof error?.code === "string") return error.code
  if (error?._tag === "SystemError" && error.cause !== undefined) return describe(error.cause)
  if (error?._tag === "SystemError") return String((error as { readonly reason?: unknown }).reason)
  return e instanceof Error ? e.message : String(e)
}

/** Whether a file-system error says the file is not there. */
export const isNotFound = (e: unknown): boolean => {
  const error = e as { readonly _tag?: unknown; readonly reason?: unknown; readonly code?: unknown } | undefined
  return error?.code === "ENOENT" || (error?._tag === "SystemError" && error.reason === "NotFound")
}
