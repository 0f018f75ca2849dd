#!/usr/bin/env bash
# A throwaway Kubernetes API for integration tests: a real etcd and a real kube-apiserver (built
# and cached by scripts/provision-kube.sh), both bound to 127.0.0.1 on free ports, with their
# data, certificates and logs in one temporary directory.
#
# Only the API server runs: no kube-controller-manager, scheduler or kubelet. So no Pods ever
# run, Deployments/StatefulSets get no ReplicaSets/Pods, there is NO garbage collector (deleting
# an owner does not cascade to objects with ownerReferences) and NO namespace controller (a
# deleted namespace stays Terminating forever, and creating objects in it is then refused).
# What the API server does itself works: validation, defaulting, RBAC, CRDs (including CRD
# deletion), admission webhooks and policies, watches, Leases.
#
# Usage: scripts/kube-test-env.sh start   start (or reuse a running env); prints export lines
#        scripts/kube-test-env.sh env     print the export lines of the running env
#        scripts/kube-test-env.sh status  exit 0 when the env runs and is ready
#        scripts/kube-test-env.sh check   smoke test: CRD apply/get, custom object, Lease
#        scripts/kube-test-env.sh stop    stop both processes and delete the directory
# Typical use:  eval "$(scripts/kube-test-env.sh start)"; ...; scripts/kube-test-env.sh stop
# stdout carries only the export lines; progress and errors go to stderr.
#
# Exported: KUBECONFIG (admin: a static token of user cacheplane-admin in system:masters),
#           CACHEPLANE_KUBE_SERVER, CACHEPLANE_KUBECTL, CACHEPLANE_ETCD_ENDPOINT,
#           CACHEPLANE_KUBE_ENV_DIR.
# Environment: CACHEPLANE_KUBE_ENV_DIR picks the directory (default
#   ${TMPDIR:-/tmp}/cacheplane-kube-env.<uid>); set distinct ones to run several envs at once.
#   CACHEPLANE_KUBE_START_TIMEOUT (seconds, default 120). CACHEPLANE_CACHE as for provisioning.
set -euo pipefail

SCRIPT_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ENV_DIR=${CACHEPLANE_KUBE_ENV_DIR:-${TMPDIR:-/tmp}/cacheplane-kube-env.$(id -u)}
START_TIMEOUT=${CACHEPLANE_KUBE_START_TIMEOUT:-120}
MARKER=.cacheplane-kube-test-env
# Service IPs are only configuration here: nothing routes to them.
SERVICE_CIDR=10.0.0.0/24
SERVICE_IP=10.0.0.1
SA_ISSUER=https://kubernetes.default.svc.cluster.local
ADMIN_USER=cacheplane-admin
# Admission: only what matters without controllers. Everything else that is on by default
# (ServiceAccount, LimitRanger, ResourceQuota, StorageObjectInUseProtection, PodSecurity, ...) is
# switched off: those mostly concern Pods, and some of them need controllers that do not run
# here (ServiceAccount refuses Pods while no controller has created the "default" service
# account; StorageObjectInUseProtection adds finalizers that only a controller removes).
ADMISSION_PLUGINS=NamespaceLifecycle,MutatingAdmissionPolicy,MutatingAdmissionWebhook,ValidatingAdmissionPolicy,ValidatingAdmissionWebhook

log() { echo "kube-test-env: $*" >&2; }
die() {
  echo "kube-test-env: error: $*" >&2
  exit 1
}

# Binaries: from the provisioning cache (built there when missing).
load_bins() {
  eval "$(bash "$SCRIPT_DIR/provision-kube.sh" --print-env)"
  if [ ! -x "$ETCD_BIN" ] || [ ! -x "$KUBE_APISERVER_BIN" ] || [ ! -x "$KUBECTL_BIN" ]; then
    log "etcd/kube-apiserver/kubectl are not built yet; running scripts/provision-kube.sh (takes minutes)"
    bash "$SCRIPT_DIR/provision-kube.sh" >&2
  fi
}

# alive PIDFILE BINARY: the recorded process still runs and is that binary (guards against a
# recycled pid).
alive() {
  local pid exe
  [ -s "$1" ] || return 1
  pid=$(cat "$1")
  kill -0 "$pid" 2>/dev/null || return 1
  exe=$(readlink "/proc/$pid/exe" 2>/dev/null) || return 1
  # " (deleted)": the cached binary was rebuilt (replaced) while this process ran.
  [ "${exe% (deleted)}" = "$(readlink -f "$2")" ]
}

port_in_use() {
  if command -v ss >/dev/null 2>&1; then
    [ -n "$(ss -Htln "sport = :$1" 2>/dev/null)" ]
  else
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
  fi
}

# free_port [EXCLUDED...]: a port nobody listens on, below the kernel's ephemeral range so that
# outgoing connections do not take it between now and the server's bind.
free_port() {
  local p x taken
  for _ in $(seq 1 200); do
    p=$((20000 + RANDOM % 12000))
    taken=false
    for x in "$@"; do [ "$x" = "$p" ] && taken=true; done
    $taken || port_in_use "$p" || {
      echo "$p"
      return 0
    }
  done
  die "found no free port"
}

kubectl_() { "$KUBECTL_BIN" --kubeconfig "$ENV_DIR/kubeconfig" "$@"; }

ready() {
  [ -f "$ENV_DIR/env" ] || return 1
  # shellcheck disable=SC1091
  . "$ENV_DIR/env"
  apiserver_ready
}

print_env() {
  local k
  # shellcheck disable=SC1091
  . "$ENV_DIR/env"
  for k in KUBECONFIG CACHEPLANE_KUBE_SERVER CACHEPLANE_KUBECTL CACHEPLANE_ETCD_ENDPOINT CACHEPLANE_KUBE_ENV_DIR; do
    printf 'export %s=%q\n' "$k" "${!k}"
  done
}

running() {
  [ -f "$ENV_DIR/$MARKER" ] && alive "$ENV_DIR/etcd.pid" "$ETCD_BIN" && alive "$ENV_DIR/kube-apiserver.pid" "$KUBE_APISERVER_BIN"
}

# stop_pid PIDFILE BINARY NAME [GRACE]: SIGTERM, then SIGKILL after GRACE seconds (default 10;
# kube-apiserver normally exits within 3 s, etcd within 2 s).
stop_pid() {
  local pid grace=${4:-10}
  alive "$1" "$2" || return 0
  pid=$(cat "$1")
  if [ "$grace" -gt 0 ]; then
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 $((grace * 10))); do
      kill -0 "$pid" 2>/dev/null || {
        log "stopped $3 (pid $pid)"
        return 0
      }
      sleep 0.1
    done
    log "$3 (pid $pid) ignored SIGTERM for ${grace}s; killing it"
  fi
  kill -KILL "$pid" 2>/dev/null || true
  for _ in $(seq 1 50); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  log "killed $3 (pid $pid)"
}

# teardown [GRACE]: stops both (GRACE 0: SIGKILL at once, for a broken env whose data is thrown
# away anyway) and deletes the directory.
teardown() {
  local grace=${1:-10}
  [ -d "$ENV_DIR" ] || return 0
  # Without its etcd, kube-apiserver's graceful shutdown hangs: nothing left to save, kill it.
  alive "$ENV_DIR/etcd.pid" "$ETCD_BIN" || grace=0
  stop_pid "$ENV_DIR/kube-apiserver.pid" "$KUBE_APISERVER_BIN" kube-apiserver "$grace"
  stop_pid "$ENV_DIR/etcd.pid" "$ETCD_BIN" etcd "$grace"
  # Only ever delete a directory this script created.
  if [ -f "$ENV_DIR/$MARKER" ]; then
    rm -rf "$ENV_DIR"
  else
    log "not deleting $ENV_DIR: it has no $MARKER file, so this script did not create it"
  fi
}

show_log_tail() {
  [ -f "$1" ] || return 0
  log "last lines of $1:"
  tail -n 25 "$1" | sed 's/^/    /' >&2
}

gen_pki() {
  local pki=$ENV_DIR/pki
  mkdir -p "$pki"
  (
    cd "$pki"
    # A throwaway CA and a serving certificate it signs (for 127.0.0.1/localhost and the
    # in-cluster names), an admin bearer token and the service-account signing key.
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out ca.key 2>/dev/null
    openssl req -x509 -new -key ca.key -sha256 -days 30 -subj "/CN=cacheplane-test-ca" \
      -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
      -out ca.crt 2>/dev/null
    openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out apiserver.key 2>/dev/null
    openssl req -new -key apiserver.key -subj "/CN=kube-apiserver" -out apiserver.csr 2>/dev/null
    printf '%s\n' \
      "basicConstraints=critical,CA:FALSE" \
      "keyUsage=critical,digitalSignature" \
      "extendedKeyUsage=serverAuth" \
      "subjectAltName=IP:127.0.0.1,DNS:localhost,IP:$SERVICE_IP,DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local" \
      >apiserver.ext
    openssl x509 -req -in apiserver.csr -CA ca.crt -CAkey ca.key -set_serial "0x$(openssl rand -hex 16)" \
      -sha256 -days 30 -extfile apiserver.ext -out apiserver.crt 2>/dev/null
    openssl genpkey -algorithm RSA -pkeyopt rsa_keygen_bits:2048 -out sa.key 2>/dev/null
    openssl pkey -in sa.key -pubout -out sa.pub 2>/dev/null
    openssl rand -hex 32 >admin.token
    printf 'Authorization: Bearer %s\n' "$(cat admin.token)" >admin.header
    # token,user,uid,"groups"
    printf '%s,%s,%s,"system:masters"\n' "$(cat admin.token)" "$ADMIN_USER" "$ADMIN_USER" >tokens.csv
    chmod 600 ./*.key admin.token admin.header tokens.csv
  )
}

write_kubeconfig() {
  local server=$1
  cat >"$ENV_DIR/kubeconfig" <<EOF
apiVersion: v1
kind: Config
clusters:
  - name: cacheplane-test
    cluster:
      server: $server
      certificate-authority-data: $(base64 -w0 <"$ENV_DIR/pki/ca.crt")
users:
  - name: $ADMIN_USER
    user:
      token: $(cat "$ENV_DIR/pki/admin.token")
contexts:
  - name: cacheplane-test
    context:
      cluster: cacheplane-test
      user: $ADMIN_USER
      namespace: default
current-context: cacheplane-test
EOF
  chmod 600 "$ENV_DIR/kubeconfig"
}

# launch NAME LOG ARGS...: runs ARGS in its own session (no SIGHUP/SIGINT from this shell, it
# outlives the script) and records its pid in $ENV_DIR/NAME.pid.
launch() {
  local name=$1 logfile=$2
  shift 2
  # The pid is written by the process itself right before exec, in case setsid had to fork.
  # shellcheck disable=SC2016 # expanded by the inner bash
  setsid bash -c 'echo $$ >"$0"; exec "$@"' "$ENV_DIR/$name.pid" "$@" </dev/null >"$logfile" 2>&1 8>&- &
  disown $! # no "Killed" job notices from this shell when a failed start kills it
  local _
  for _ in $(seq 1 50); do
    [ -s "$ENV_DIR/$name.pid" ] && return 0
    sleep 0.1
  done
  die "$name did not start"
}

# wait_for NAME PIDFILE BINARY LOG DEADLINE CMD...: polls CMD until it succeeds; fails when the
# process exits or the deadline (in $SECONDS) passes.
wait_for() {
  local name=$1 pidfile=$2 bin=$3 logfile=$4 deadline=$5
  shift 5
  until "$@" >/dev/null 2>&1; do
    if ! alive "$pidfile" "$bin"; then
      log "$name exited during start-up"
      show_log_tail "$logfile"
      return 1
    fi
    if [ "$SECONDS" -ge "$deadline" ]; then
      log "$name was not ready after ${START_TIMEOUT}s"
      show_log_tail "$logfile"
      return 2
    fi
    sleep 0.2
  done
}

etcd_healthy() {
  case "$(curl -sf --max-time 2 "$CACHEPLANE_ETCD_ENDPOINT/health")" in *'"health":"true"'*) return 0 ;; esac
  return 1
}
# The token goes in a header file, not on curl's command line (visible in ps).
apiserver_ready() {
  [ "$(curl -s --max-time 3 --cacert "$ENV_DIR/pki/ca.crt" -H "@$ENV_DIR/pki/admin.header" \
    "$CACHEPLANE_KUBE_SERVER/readyz")" = ok ]
}

start_etcd() {
  local client peer
  client=$(free_port)
  peer=$(free_port "$client")
  CACHEPLANE_ETCD_ENDPOINT=http://127.0.0.1:$client
  rm -rf "$ENV_DIR/etcd-data"
  launch etcd "$ENV_DIR/etcd.log" "$ETCD_BIN" \
    --name=cacheplane-test \
    --data-dir="$ENV_DIR/etcd-data" \
    --listen-client-urls="http://127.0.0.1:$client" \
    --advertise-client-urls="http://127.0.0.1:$client" \
    --listen-peer-urls="http://127.0.0.1:$peer" \
    --initial-advertise-peer-urls="http://127.0.0.1:$peer" \
    --initial-cluster="cacheplane-test=http://127.0.0.1:$peer" \
    --initial-cluster-state=new \
    --unsafe-no-fsync \
    --log-level=warn
}

# Required flags: --etcd-servers, --service-account-issuer and --service-account-signing-key-file
# (it refuses to start without them), and --endpoint-reconciler-type=none: with a loopback
# advertise address the default reconciler stops start-up ("cannot use public IP 127.0.0.1 with
# endpoint reconciler: ... may not be in the loopback range"); nothing routes to the
# "kubernetes" Service here anyway.
start_apiserver() {
  local port
  port=$(free_port)
  CACHEPLANE_KUBE_SERVER=https://127.0.0.1:$port
  launch kube-apiserver "$ENV_DIR/kube-apiserver.log" "$KUBE_APISERVER_BIN" \
    --bind-address=127.0.0.1 \
    --advertise-address=127.0.0.1 \
    --secure-port="$port" \
    --etcd-servers="$CACHEPLANE_ETCD_ENDPOINT" \
    --cert-dir="$ENV_DIR/pki" \
    --tls-cert-file="$ENV_DIR/pki/apiserver.crt" \
    --tls-private-key-file="$ENV_DIR/pki/apiserver.key" \
    --token-auth-file="$ENV_DIR/pki/tokens.csv" \
    --authorization-mode=RBAC \
    --service-account-issuer="$SA_ISSUER" \
    --service-account-key-file="$ENV_DIR/pki/sa.pub" \
    --service-account-signing-key-file="$ENV_DIR/pki/sa.key" \
    --service-cluster-ip-range="$SERVICE_CIDR" \
    --enable-admission-plugins="$ADMISSION_PLUGINS" \
    --disable-admission-plugins="$DISABLED_ADMISSION_PLUGINS" \
    --endpoint-reconciler-type=none \
    --profiling=false
}

# The plugins that are on by default and not in ADMISSION_PLUGINS, read from this
# kube-apiserver's own --help ("... in addition to default enabled ones (A, B, C). ...").
default_off_plugins() {
  local defaults p keep out=()
  defaults=$("$KUBE_APISERVER_BIN" --help 2>&1 | tr '\n' ' ' |
    sed -n 's/.*--enable-admission-plugins strings *admission plugins that should be enabled in addition to default enabled ones (\([^)]*\)).*/\1/p' | tr -d ' ')
  [ -n "$defaults" ] || die "could not read the default admission plugins from kube-apiserver --help"
  for p in ${defaults//,/ }; do
    keep=false
    case ",$ADMISSION_PLUGINS," in *",$p,"*) keep=true ;; esac
    $keep || out+=("$p")
  done
  (
    IFS=,
    echo "${out[*]}"
  )
}

cmd_start() {
  local t0=$SECONDS attempt rc deadline
  load_bins
  if running && ready; then
    log "already running ($ENV_DIR)"
    print_env
    return 0
  fi
  teardown 0 # a stale or half-started env
  if [ -d "$ENV_DIR" ] && [ -n "$(ls -A "$ENV_DIR")" ]; then
    die "$ENV_DIR exists and was not created by this script; remove it or set CACHEPLANE_KUBE_ENV_DIR"
  fi
  mkdir -p "$ENV_DIR"
  chmod 700 "$ENV_DIR"
  touch "$ENV_DIR/$MARKER"
  gen_pki
  DISABLED_ADMISSION_PLUGINS=$(default_off_plugins)
  # A port picked as free can be taken before the server binds it: retry with new ports.
  for attempt in 1 2 3; do
    deadline=$((SECONDS + START_TIMEOUT))
    start_etcd
    rc=0
    wait_for etcd "$ENV_DIR/etcd.pid" "$ETCD_BIN" "$ENV_DIR/etcd.log" "$deadline" etcd_healthy || rc=$?
    if [ "$rc" -eq 0 ]; then
      log "etcd ready at $CACHEPLANE_ETCD_ENDPOINT after $((SECONDS - t0))s"
      start_apiserver
      wait_for kube-apiserver "$ENV_DIR/kube-apiserver.pid" "$KUBE_APISERVER_BIN" "$ENV_DIR/kube-apiserver.log" "$deadline" apiserver_ready || rc=$?
    fi
    [ "$rc" -eq 0 ] && break
    stop_pid "$ENV_DIR/kube-apiserver.pid" "$KUBE_APISERVER_BIN" kube-apiserver 0
    stop_pid "$ENV_DIR/etcd.pid" "$ETCD_BIN" etcd 0
    if [ "$rc" -eq 1 ] && grep -qs 'address already in use' "$ENV_DIR/etcd.log" "$ENV_DIR/kube-apiserver.log" && [ "$attempt" -lt 3 ]; then
      log "a port was taken meanwhile; retrying with other ports"
      continue
    fi
    teardown 0
    die "could not start the test Kubernetes API"
  done
  write_kubeconfig "$CACHEPLANE_KUBE_SERVER"
  {
    printf 'KUBECONFIG=%q\n' "$ENV_DIR/kubeconfig"
    printf 'CACHEPLANE_KUBE_SERVER=%q\n' "$CACHEPLANE_KUBE_SERVER"
    printf 'CACHEPLANE_KUBECTL=%q\n' "$KUBECTL_BIN"
    printf 'CACHEPLANE_ETCD_ENDPOINT=%q\n' "$CACHEPLANE_ETCD_ENDPOINT"
    printf 'CACHEPLANE_KUBE_ENV_DIR=%q\n' "$ENV_DIR"
  } >"$ENV_DIR/env"
  log "kube-apiserver $KUBE_VERSION ready at $CACHEPLANE_KUBE_SERVER (etcd $ETCD_VERSION) in $((SECONDS - t0))s; logs in $ENV_DIR"
  print_env
}

cmd_check() {
  local crd=widgets.selftest.cacheplane.io
  { running && ready; } || die "no test env is running in $ENV_DIR (run: $0 start)"
  log "check: server version: $(kubectl_ version -o json | sed -n 's/.*"gitVersion": "\([^"]*\)".*/\1/p' | tail -n1)"
  log "check: applying CRD $crd"
  kubectl_ apply -f - >&2 <<'EOF'
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: widgets.selftest.cacheplane.io
spec:
  group: selftest.cacheplane.io
  scope: Namespaced
  names: { plural: widgets, singular: widget, kind: Widget }
  versions:
    - name: v1
      served: true
      storage: true
      schema:
        openAPIV3Schema:
          type: object
          properties:
            spec:
              type: object
              properties:
                size: { type: integer, minimum: 1 }
EOF
  kubectl_ wait --for=condition=Established "crd/$crd" --timeout=30s >&2
  kubectl_ apply -f - >&2 <<'EOF'
apiVersion: selftest.cacheplane.io/v1
kind: Widget
metadata: { name: check, namespace: default }
spec: { size: 3 }
EOF
  kubectl_ get widgets.selftest.cacheplane.io -n default >&2
  if kubectl_ apply -f - >/dev/null 2>&1 <<'EOF'; then
apiVersion: selftest.cacheplane.io/v1
kind: Widget
metadata: { name: invalid, namespace: default }
spec: { size: 0 }
EOF
    die "check: the CRD's schema did not reject spec.size=0"
  fi
  log "check: schema validation rejected an invalid Widget, as it should"
  log "check: creating a coordination.k8s.io/v1 Lease"
  kubectl_ create -f - >&2 <<EOF
apiVersion: coordination.k8s.io/v1
kind: Lease
metadata: { name: cacheplane-check, namespace: default }
spec:
  holderIdentity: kube-test-env-check
  leaseDurationSeconds: 15
  acquireTime: "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"
  renewTime: "$(date -u +%Y-%m-%dT%H:%M:%S.000000Z)"
EOF
  kubectl_ get leases.coordination.k8s.io cacheplane-check -n default >&2
  kubectl_ delete lease cacheplane-check -n default >&2
  kubectl_ delete widget check -n default >&2
  kubectl_ delete crd "$crd" --wait=true --timeout=30s >&2
  log "check: ok"
}

# start and stop of one env dir run one at a time. The lock file sits next to the env dir (not
# in it: stop deletes the dir), and the servers must not inherit its descriptor (see launch).
serialize() {
  exec 8>"$ENV_DIR.lock"
  flock 8
}

cmd="${1:-}"
case "$cmd" in
  start)
    serialize
    cmd_start
    ;;
  env)
    load_bins
    running || die "no test env is running in $ENV_DIR (run: $0 start)"
    print_env
    ;;
  status)
    load_bins
    if running && ready; then
      log "running and ready: $CACHEPLANE_KUBE_SERVER ($ENV_DIR)"
    else
      log "not running ($ENV_DIR)"
      exit 1
    fi
    ;;
  check)
    load_bins
    cmd_check
    ;;
  stop)
    serialize
    eval "$(bash "$SCRIPT_DIR/provision-kube.sh" --print-env)"
    if [ -d "$ENV_DIR" ]; then
      teardown
      log "stopped; removed $ENV_DIR"
    else
      log "nothing to stop ($ENV_DIR does not exist)"
    fi
    ;;
  *)
    sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    [ "$cmd" = -h ] || [ "$cmd" = --help ] || exit 2
    ;;
esac
