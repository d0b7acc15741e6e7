// Written by scripts/built.mjs from packages/export/package.json at each build: do not edit.
/** The version of @certcentral/export, as its package.json says. */
export const version = "0.1.0"
