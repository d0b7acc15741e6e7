// The sources say 0.0.0-source; a build writes core's package.json version into what it emits (scripts/built.mjs
// `stampVersion`, and the bins' bundle), so that the User-Agent follows `changeset version`.
export const version: string = "0.0.0-source"
