/** A short, stable description of a file-system error: its code (`ENOENT`, `EACCES`) when it has one. */
export const describe = (e: unknown): string => {
  const error = e as NodeJS.ErrnoException | undefined
  return error?.code !== undefined ? error.code : e instanceof Error ? e.message : String(e)
}
