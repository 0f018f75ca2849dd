#!/usr/bin/env bash
# Installs the load generators the benchmark (npm run bench) uses besides wrk and redis-benchmark:
#   ghz    (gRPC load, closed and open loop)   github.com/bojand/ghz
#   vegeta (HTTP load at a fixed arrival rate) github.com/tsenart/vegeta/v12
# Both are built from source with `go install`, versions pinned, into
# ${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}/bin. Also checks for wrk and redis-benchmark (Debian
# packages wrk and redis-tools) and installs them with apt-get when missing. Idempotent: a tool
# already built at its pinned version is not rebuilt. Each step prints what it did.
set -euo pipefail

GHZ_VERSION=v0.120.0
VEGETA_VERSION=v12.13.0

say() { echo "provision-bench: $*"; }

cache_dir=${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}
bin_dir="$cache_dir/bin"
mkdir -p "$bin_dir"

here=$(cd "$(dirname "$0")" && pwd)
bash "$here/provision-redis.sh"

# --- Debian packages: wrk, redis-benchmark ------------------------------------------------------
missing=()
command -v wrk >/dev/null 2>&1 || missing+=(wrk)
command -v redis-benchmark >/dev/null 2>&1 || missing+=(redis-tools)
if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ]; then as_root=(); elif command -v sudo >/dev/null 2>&1; then as_root=(sudo); else
    echo "provision-bench: missing ${missing[*]} and installing needs root (Debian packages)" >&2
    exit 1
  fi
  if ! command -v apt-get >/dev/null 2>&1; then
    echo "provision-bench: missing ${missing[*]}; install them by hand (no apt-get)" >&2
    exit 1
  fi
  say "installing ${missing[*]} with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  "${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
else
  say "wrk and redis-benchmark already present"
fi

# --- Go tools -------------------------------------------------------------------------------------
if ! command -v go >/dev/null 2>&1; then
  echo "provision-bench: go is not on PATH; install Go >= 1.22 to build ghz and vegeta" >&2
  exit 1
fi

# install <name> <module path of the command>@<version>
# A stamp file next to the binary records the version it was built from.
install_go_tool() {
  local name=$1 package=$2 version=$3
  local stamp="$bin_dir/.$name.version"
  if [ -x "$bin_dir/$name" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$package@$version" ]; then
    say "$name $version already built in $bin_dir"
    return
  fi
  say "building $name $version (go install $package@$version)"
  GOBIN="$bin_dir" GOFLAGS=-buildvcs=false go install "$package@$version"
  echo "$package@$version" >"$stamp"
  say "installed $bin_dir/$name"
}

install_go_tool ghz github.com/bojand/ghz/cmd/ghz "$GHZ_VERSION"
install_go_tool vegeta github.com/tsenart/vegeta/v12 "$VEGETA_VERSION"
