#!/usr/bin/env bash
# Consumer smoke test: packs @certcentral/core, /export and /testkit, installs the tarballs with effect,
# @effect/platform and @effect/platform-node from the npm registry into a temporary project outside the workspace,
# type-checks and runs scripts/consumer/main.ts there, then runs the packed certcentral-export bin against the packed
# certcentral-testkit bin on 127.0.0.1. Nothing but the npm registry is contacted.
#
# Usage: bash scripts/consumer-smoke.sh   (from anywhere; builds the packages first)
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# Versions a user would install: the peers' ranges, and the tools the repository itself is tested with.
effect_versions=("effect@^3.22.4" "@effect/platform@^0.97.2" "@effect/platform-node@^0.108.2")
tool_versions=("typescript@7.0.2" "@types/node@^20.19.0")

work="$(mktemp -d "${TMPDIR:-/tmp}/certcentral-consumer.XXXXXX")"
server_pid=""
cleanup() {
  if [ -n "$server_pid" ]; then kill "$server_pid" 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

step() { printf '\n== consumer smoke: %s\n' "$*"; }

step "build and pack"
(cd "$repo" && pnpm build >/dev/null)
mkdir -p "$work/packs" "$work/app"
for pkg in core export testkit; do
  (cd "$repo/packages/$pkg" && pnpm pack --pack-destination "$work/packs" >/dev/null)
done
ls "$work/packs"

# What went into the tarballs: dist exports and bins, no workspace: ranges, no tests.
node - "$work/packs" <<'JS'
const { execFileSync } = require("node:child_process")
const dir = process.argv[2]
const fail = (message) => { console.error(`consumer smoke: ${message}`); process.exit(1) }
for (const name of ["core", "export", "testkit"]) {
  const tgz = `${dir}/certcentral-${name}-0.1.0.tgz`.replace(/0\.1\.0/, require(`${process.cwd()}/packages/${name}/package.json`).version)
  const files = execFileSync("tar", ["tzf", tgz], { encoding: "utf8" }).trim().split("\n")
  const pkg = JSON.parse(execFileSync("tar", ["xzf", tgz, "-O", "package/package.json"], { encoding: "utf8" }))
  const text = JSON.stringify(pkg)
  if (text.includes("workspace:")) fail(`${name}: a workspace: range is left in package.json`)
  if (pkg.exports["."].types !== "./dist/index.d.ts" || pkg.exports["."].default !== "./dist/index.js") {
    fail(`${name}: exports "." does not point at dist`)
  }
  if (pkg.exports["./internal/*"] !== null) fail(`${name}: exports "./internal/*" is not null`)
  for (const file of ["dist/index.js", "dist/index.d.ts", "dist/index.js.map", "README.md", "LICENSE"]) {
    if (!files.includes(`package/${file}`)) fail(`${name}: ${file} missing from the tarball`)
  }
  if (files.some((f) => f.startsWith("package/test/"))) fail(`${name}: tests are in the tarball`)
  for (const [bin, target] of Object.entries(pkg.bin ?? {})) {
    if (target !== "./dist/bin.js") fail(`${name}: bin ${bin} points at ${target}`)
    const lines = execFileSync("tar", ["xzf", tgz, "-O", "package/dist/bin.js"], { encoding: "utf8", maxBuffer: 1 << 27 })
      .split("\n", 2)
    if (lines[0] !== "#!/usr/bin/env node") fail(`${name}: dist/bin.js starts with ${lines[0]}`)
    // the CLI's bin is one bundled file (scripts/built.mjs, bundleBin): nothing to resolve but node's built-ins
    if (name === "export" && !lines[1].startsWith("// bundled by scripts/built.mjs")) fail(`${name}: bin is not the bundle`)
  }
  console.log(`${name}: ${files.length} files, exports and bins point at dist/`)
}
JS

step "install the tarballs and the registry's effect packages into $work/app"
cd "$work/app"
cat > package.json <<'JSON'
{ "name": "certcentral-consumer", "private": true, "type": "module" }
JSON
cp "$repo/scripts/consumer/main.ts" "$repo/scripts/consumer/tsconfig.json" .
npm install --no-audit --no-fund --loglevel=error \
  "$work"/packs/certcentral-core-*.tgz "$work"/packs/certcentral-export-*.tgz "$work"/packs/certcentral-testkit-*.tgz \
  "${effect_versions[@]}" "${tool_versions[@]}"
node -e 'for (const p of ["effect", "@effect/platform", "@effect/platform-node", "@certcentral/core"]) {
  console.log(`${p}@${require(`./node_modules/${p}/package.json`).version}`) }'

step "type-check and run the consumer program"
npx --no-install tsc -p tsconfig.json
node out/main.js

step "run the packed certcentral-testkit and certcentral-export bins"
port="$(node -e 'const s = require("node:net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close() })')"
# the bin itself (not through npx, whose child would outlive a kill of npx's pid)
./node_modules/.bin/certcentral-testkit --port "$port" --api-key consumer-key > server.log 2>&1 &
server_pid=$!
for _ in $(seq 1 100); do
  grep -q '^DIGICERT_BASE_URL=' server.log 2>/dev/null && break
  sleep 0.1
done
grep -q '^DIGICERT_BASE_URL=' server.log || { cat server.log; echo "consumer smoke: testkit server did not start" >&2; exit 1; }
base_url="$(sed -n 's/^DIGICERT_BASE_URL=//p' server.log)"

printf 'order_id\n12345\n1001\n1002\nnot-an-id\n1001\n' > orders.csv
status=0
DIGICERT_API_KEY=consumer-key DIGICERT_BASE_URL="$base_url" \
  npx --no-install certcentral-export --orders orders.csv --output certificates.csv --quiet || status=$?
# 1: finished, with the bad input line in the errors file.
[ "$status" = 1 ] || { echo "consumer smoke: certcentral-export exited $status, expected 1" >&2; exit 1; }
head -c 200 certificates.csv; echo
rows=$(($(wc -l < certificates.csv) - 1))
[ "$rows" -ge 3 ] || { echo "consumer smoke: only $rows rows" >&2; exit 1; }
grep -q '"line":5' certificates.csv.errors.ndjson || { cat certificates.csv.errors.ndjson; exit 1; }
echo "certcentral-export: $rows rows, exit $status, bad line 5 in the errors file"

DIGICERT_API_KEY=consumer-key DIGICERT_BASE_URL="$base_url" \
  npx --no-install certcentral-export --orders orders.csv --output certificates.ndjson --include order --quiet || status=$?
[ "$(wc -l < certificates.ndjson)" = 3 ] || { echo "consumer smoke: ndjson rows" >&2; exit 1; }

status=0
DIGICERT_API_KEY=wrong-key DIGICERT_BASE_URL="$base_url" \
  npx --no-install certcentral-export --orders orders.csv --output refused.csv --quiet 2>refused.log || status=$?
[ "$status" = 3 ] || { cat refused.log; echo "consumer smoke: a refused key exited $status, expected 3" >&2; exit 1; }
echo "certcentral-export: a refused key exits 3"

status=0
npx --no-install certcentral-export --output x.csv --orders orders.csv 2>usage.log || status=$?
[ "$status" = 2 ] || { echo "consumer smoke: no DIGICERT_API_KEY exited $status, expected 2" >&2; exit 1; }

step "ok"
