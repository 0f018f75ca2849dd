#!/usr/bin/env bash
# Builds the Kubernetes control-plane binaries the operator's integration tests run against
# (see scripts/kube-test-env.sh): a real etcd, a real kube-apiserver and a matching kubectl.
#
# Nothing is downloaded but Go modules (through GOPROXY): each binary is built from its
# upstream Go module with the installed Go toolchain, through small wrapper modules written
# under the cache directory (never inside the repository). The results are cached in
#   ${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}/etcd-<ETCD_VERSION>/bin/etcd
#   ${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}/kube-<KUBE_VERSION>/bin/{kube-apiserver,kubectl}
# and a binary that is already there is never rebuilt (delete it, or pass --force, to rebuild).
# The first build takes many minutes on a small machine (kube-apiserver is the slow one).
#
# Usage: scripts/provision-kube.sh            build whatever is missing
#        scripts/provision-kube.sh --force    rebuild all three
#        scripts/provision-kube.sh --print-env   print ETCD_BIN/KUBE_APISERVER_BIN/KUBECTL_BIN/...
#                                                 assignments; builds nothing
# Environment: CACHEPLANE_CACHE (cache root), CACHEPLANE_BUILD_JOBS (go build -p, default 2).
set -euo pipefail

# Pinned versions. KUBE_VERSION is a k8s.io/kubernetes tag without the "v"; every staging module
# (k8s.io/api, k8s.io/apiserver, ...) is used at the matching v0.<minor>.<patch>. ETCD_VERSION is
# the go.etcd.io/etcd/server/v3 tag; Kubernetes 1.37 is released against etcd 3.7.x
# (build/dependencies.yaml of the tag says 3.7.0), 3.7.3 is that line's newest patch.
KUBE_VERSION=1.37.2
ETCD_VERSION=3.7.3

CACHE_ROOT=${CACHEPLANE_CACHE:-$HOME/.cache/cacheplane}
KUBE_DIR=$CACHE_ROOT/kube-$KUBE_VERSION
ETCD_DIR=$CACHE_ROOT/etcd-$ETCD_VERSION
WRAPPER_ROOT=$CACHE_ROOT/wrappers
BUILD_JOBS=${CACHEPLANE_BUILD_JOBS:-2}

ETCD_BIN=$ETCD_DIR/bin/etcd
KUBE_APISERVER_BIN=$KUBE_DIR/bin/kube-apiserver
KUBECTL_BIN=$KUBE_DIR/bin/kubectl

say() { echo "provision-kube: $*"; }
die() {
  echo "provision-kube: error: $*" >&2
  exit 1
}

force=false
case "${1:-}" in
  "") ;;
  --force) force=true ;;
  --print-env)
    printf 'KUBE_VERSION=%q\nETCD_VERSION=%q\nETCD_BIN=%q\nKUBE_APISERVER_BIN=%q\nKUBECTL_BIN=%q\n' \
      "$KUBE_VERSION" "$ETCD_VERSION" "$ETCD_BIN" "$KUBE_APISERVER_BIN" "$KUBECTL_BIN"
    exit 0
    ;;
  -h | --help)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'
    exit 0
    ;;
  *) die "unknown argument '$1' (try --help)" ;;
esac

have() { [ -x "$1" ] && ! $force; }
if have "$ETCD_BIN" && have "$KUBE_APISERVER_BIN" && have "$KUBECTL_BIN"; then
  say "etcd $ETCD_VERSION, kube-apiserver and kubectl $KUBE_VERSION already cached in $CACHE_ROOT"
  exit 0
fi

command -v go >/dev/null 2>&1 || die "go is not on PATH; these binaries are built from source with Go"

# Module-mode builds that may add missing go.sum/go.mod entries to the wrapper modules, fully
# static binaries, and no silent toolchain download: a too-old Go must fail loudly.
export GOFLAGS="-mod=mod -buildvcs=false"
export CGO_ENABLED=0
export GOTOOLCHAIN=local
export GOWORK=off
# Two cores: build two packages at a time and let each compile use both cores. Memory is no
# concern at -p 2: measured peak 2.3 GiB for the biggest single compile/link process, about
# 2 GiB in use machine-wide. Cold build on 2 shared cores: etcd ~2 min, kube-apiserver ~8 min,
# kubectl ~40 s (it reuses most of kube-apiserver's compiled packages); warm cache: seconds.
export GOMAXPROCS=${GOMAXPROCS:-$(nproc 2>/dev/null || echo 2)}

mkdir -p "$CACHE_ROOT" "$WRAPPER_ROOT"
# Out of the caller's directory: go must never pick up (or touch) some go.mod of the caller's.
cd "$WRAPPER_ROOT"
# One provisioning at a time per cache root (parallel test jobs may call this together).
exec 9>"$CACHE_ROOT/.provision-kube.lock"
if ! flock -n 9; then
  say "another provisioning holds $CACHE_ROOT/.provision-kube.lock; waiting for it"
  flock 9
fi

total_start=$SECONDS
go_version=$(go env GOVERSION)
say "using $go_version ($(go env GOOS)/$(go env GOARCH)), GOMAXPROCS=$GOMAXPROCS, go build -p $BUILD_JOBS, cache $CACHE_ROOT"

# version_le A B: true when Go version A (1.26 / 1.26.0 / go1.26.8) <= B.
version_le() {
  local a=${1#go} b=${2#go}
  [ "$(printf '%s\n%s\n' "$a" "$b" | sort -V | sed -n 1p)" = "$a" ]
}

# mod_file MODULE@VERSION: downloads the module (zip and go.mod) into the module cache and
# prints the path of its go.mod file.
mod_file() {
  local json
  json=$(go mod download -json "$1") || die "go mod download $1 failed"
  sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",\{0,1\}$/\1/p' <<<"$json"
}
mod_info_time() {
  local json
  json=$(go mod download -json "$1") || die "go mod download $1 failed"
  sed -n 's/^[[:space:]]*"Info": "\(.*\)",\{0,1\}$/\1/p' <<<"$json" |
    xargs sed -n 's/.*"Time":"\([^"]*\)".*/\1/p'
}

# require_go GOMOD: fails early with a clear message when the module needs a newer Go.
require_go() {
  local need
  need=$(sed -n 's/^go \([0-9.]*\).*/\1/p' "$1")
  if [ -n "$need" ] && ! version_le "$need" "$go_version"; then
    die "$(basename "$(dirname "$(dirname "$1")")") needs go >= $need but the installed Go is $go_version"
  fi
  echo "$need"
}

# logged DIR CMD...: runs CMD in DIR with its output (go's "downloading ..." chatter, compiler
# errors) appended to DIR/build.log; on failure shows the end of that log and stops.
logged() {
  local dir=$1
  shift
  if ! (cd "$dir" && echo "+ $*" && "$@") >>"$dir/build.log" 2>&1; then
    echo "provision-kube: error: '$*' failed in $dir; last lines of $dir/build.log:" >&2
    tail -n 40 "$dir/build.log" | sed 's/^/    /' >&2
    exit 1
  fi
}

# build DIR OUT PKG [LDFLAGS]: go build in DIR into a temporary name next to OUT, then rename,
# so that an interrupted build never leaves a half-written binary that later runs would take
# as cached.
build() {
  local dir=$1 out=$2 pkg=$3 ldflags="-s -w ${4:-}"
  mkdir -p "$(dirname "$out")"
  logged "$dir" go build -p "$BUILD_JOBS" -trimpath -ldflags="$ldflags" -o "$out.tmp.$$" "$pkg"
  mv -f "$out.tmp.$$" "$out"
}

size_of() { du -h "$1" | cut -f1; }

# ---------------------------------------------------------------------------------------------
# etcd: a wrapper main around go.etcd.io/etcd/server/v3/etcdmain (exactly what etcd's own
# main.go does). etcd's go.mod replaces its sibling modules with ../ paths, which do not apply
# to a dependency; the sibling modules are required at the same tag, so nothing to replace.
if have "$ETCD_BIN"; then
  say "etcd $ETCD_VERSION: cached ($ETCD_BIN)"
else
  step_start=$SECONDS
  say "etcd $ETCD_VERSION: resolving go.etcd.io/etcd/server/v3@v$ETCD_VERSION"
  etcd_gomod=$(mod_file "go.etcd.io/etcd/server/v3@v$ETCD_VERSION")
  etcd_go=$(require_go "$etcd_gomod")
  wrapper=$WRAPPER_ROOT/etcd-$ETCD_VERSION
  mkdir -p "$wrapper"
  cat >"$wrapper/go.mod" <<EOF
// Written by cacheplane scripts/provision-kube.sh; safe to delete.
module cacheplane.local/etcd-wrapper

go $etcd_go

require go.etcd.io/etcd/server/v3 v$ETCD_VERSION
EOF
  cat >"$wrapper/main.go" <<'EOF'
// Written by cacheplane scripts/provision-kube.sh: the same entry point as etcd's main.go.
package main

import (
	"os"

	"go.etcd.io/etcd/server/v3/etcdmain"
)

func main() {
	etcdmain.Main(os.Args)
}
EOF
  rm -f "$wrapper/go.sum" "$wrapper/build.log"
  say "etcd $ETCD_VERSION: go mod tidy in $wrapper (log: $wrapper/build.log)"
  logged "$wrapper" go mod tidy
  say "etcd $ETCD_VERSION: building"
  build "$wrapper" "$ETCD_BIN" .
  say "etcd $ETCD_VERSION: built $ETCD_BIN ($(size_of "$ETCD_BIN")) in $((SECONDS - step_start))s"
fi

# ---------------------------------------------------------------------------------------------
# kube-apiserver and kubectl: a go.mod-only wrapper module that requires k8s.io/kubernetes at
# the pinned tag and builds its upstream main packages (k8s.io/kubernetes/cmd/kube-apiserver,
# k8s.io/kubernetes/cmd/kubectl) unchanged. k8s.io/kubernetes requires its staging modules at
# v0.0.0 and points them at ./staging/src/... with replace directives, which only work inside
# the kubernetes repository; the wrapper replaces each of them with the published module at
# v0.<minor>.<patch>. The list is generated from the tag's own go.mod, restricted to modules it
# actually requires (it also replaces sample modules that the module proxy does not serve).
if have "$KUBE_APISERVER_BIN" && have "$KUBECTL_BIN"; then
  say "kubernetes $KUBE_VERSION: kube-apiserver and kubectl cached ($KUBE_DIR/bin)"
else
  step_start=$SECONDS
  say "kubernetes $KUBE_VERSION: downloading k8s.io/kubernetes@v$KUBE_VERSION (go.mod and sources)"
  kube_gomod=$(mod_file "k8s.io/kubernetes@v$KUBE_VERSION")
  kube_go=$(require_go "$kube_gomod")
  staging_version=v0.${KUBE_VERSION#*.}
  # Staging modules: "k8s.io/x => ./staging/src/k8s.io/x" in the replace block...
  mapfile -t staging < <(sed -n 's#^[[:space:]]*\(k8s\.io/[^[:space:]]*\)[[:space:]]*=>[[:space:]]*\./staging/src/.*#\1#p' "$kube_gomod")
  # ...that appear in a require line ("k8s.io/x v0.0.0").
  mapfile -t required < <(sed -n 's#^[[:space:]]*\(require[[:space:]]\{1,\}\)\{0,1\}\(k8s\.io/[^[:space:]]*\)[[:space:]]\{1,\}v0\.0\.0\([[:space:]].*\)\{0,1\}$#\2#p' "$kube_gomod")
  replaces=()
  for m in "${staging[@]}"; do
    for r in "${required[@]}"; do
      if [ "$m" = "$r" ]; then
        replaces+=("$m")
        break
      fi
    done
  done
  [ "${#replaces[@]}" -gt 10 ] ||
    die "found only ${#replaces[@]} staging modules in $kube_gomod; has its layout changed?"
  # Keep the tag's godebug settings: they only take effect in the main module.
  godebug=$(grep -E '^godebug[[:space:]]' "$kube_gomod" || true)
  wrapper=$WRAPPER_ROOT/kube-$KUBE_VERSION
  mkdir -p "$wrapper"
  {
    echo "// Written by cacheplane scripts/provision-kube.sh; safe to delete."
    echo "module cacheplane.local/kube-wrapper"
    echo
    echo "go $kube_go"
    [ -z "$godebug" ] || printf '\n%s\n' "$godebug"
    echo
    echo "require k8s.io/kubernetes v$KUBE_VERSION"
    echo
    echo "// Generated from the replace block of k8s.io/kubernetes@v$KUBE_VERSION's go.mod."
    echo "replace ("
    for m in "${replaces[@]}"; do
      printf '\t%s => %s %s\n' "$m" "$m" "$staging_version"
    done
    echo ")"
  } >"$wrapper/go.mod"
  # No Go files, so no 'go mod tidy' (it would drop the require); -mod=mod lets go build add
  # the go.mod requirements and go.sum entries the build needs.
  rm -f "$wrapper/go.sum" "$wrapper/build.log"
  say "kubernetes $KUBE_VERSION: wrapper $wrapper/go.mod with ${#replaces[@]} staging replaces => $staging_version (log: $wrapper/build.log)"

  # What hack/lib/version.sh stamps into release builds, so that 'kubectl version' and the
  # apiserver's /version report v$KUBE_VERSION instead of v0.0.0-master. The build date is the
  # tag's commit time, which keeps rebuilds identical.
  build_date=$(mod_info_time "k8s.io/kubernetes@v$KUBE_VERSION")
  minor=${KUBE_VERSION#*.}
  minor=${minor%%.*}
  version_ldflags=""
  for pkg in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
    version_ldflags+=" -X $pkg.gitVersion=v$KUBE_VERSION -X $pkg.gitMajor=${KUBE_VERSION%%.*}"
    version_ldflags+=" -X $pkg.gitMinor=$minor -X $pkg.gitTreeState=clean"
    version_ldflags+=" -X $pkg.buildDate=${build_date:-1970-01-01T00:00:00Z}"
  done

  say "kubernetes $KUBE_VERSION: resolving the module graph"
  logged "$wrapper" bash -c 'go list -deps k8s.io/kubernetes/cmd/kube-apiserver k8s.io/kubernetes/cmd/kubectl >/dev/null'
  say "kubernetes $KUBE_VERSION: module graph ready in $((SECONDS - step_start))s"

  if have "$KUBE_APISERVER_BIN"; then
    say "kube-apiserver $KUBE_VERSION: cached ($KUBE_APISERVER_BIN)"
  else
    t=$SECONDS
    say "kube-apiserver $KUBE_VERSION: building (the slow one: many minutes on 2 cores)"
    build "$wrapper" "$KUBE_APISERVER_BIN" k8s.io/kubernetes/cmd/kube-apiserver "$version_ldflags"
    say "kube-apiserver $KUBE_VERSION: built $KUBE_APISERVER_BIN ($(size_of "$KUBE_APISERVER_BIN")) in $((SECONDS - t))s"
  fi
  if have "$KUBECTL_BIN"; then
    say "kubectl $KUBE_VERSION: cached ($KUBECTL_BIN)"
  else
    t=$SECONDS
    say "kubectl $KUBE_VERSION: building"
    build "$wrapper" "$KUBECTL_BIN" k8s.io/kubernetes/cmd/kubectl "$version_ldflags"
    say "kubectl $KUBE_VERSION: built $KUBECTL_BIN ($(size_of "$KUBECTL_BIN")) in $((SECONDS - t))s"
  fi
fi

# (sed -n 1p, not head -n1: with pipefail, head closing the pipe early fails the script.)
say "checking the binaries"
say "  $("$ETCD_BIN" --version | sed -n 1p)"
say "  $("$KUBE_APISERVER_BIN" --version)"
say "  $("$KUBECTL_BIN" version --client 2>/dev/null | sed -n 1p)"
say "done in $((SECONDS - total_start))s"
