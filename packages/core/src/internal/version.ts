// Written by scripts/built.mjs from packages/core/package.json at each build: do not edit.
/** The version of @certcentral/core, as its package.json says. */
export const version = "0.1.0"
