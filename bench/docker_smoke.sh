#!/usr/bin/env bash
# The Docker image built and run as an operator runs it (issue 23): exit 0 when all of it holds.
#
#   bench/docker_smoke.sh [--fresh] [--scaled]
#
# Builds the image from the project's own Dockerfile (only build arguments and the context change:
# a stand-in base and this machine's pip settings), starts it on a fresh data volume, waits for its
# HEALTHCHECK to say healthy, posts a real voice note to the web API, runs `voicemood classify`
# inside, checks the process is not root, stops it (under compose's stop_grace_period), starts a
# new container on the same volume and finds the remembered note again. Prints a table: image
# size, build time, time to healthy, stop time.
#   --fresh   build without Docker's layer cache (the target: builds from a clean cache).
#   --scaled  then the compose file's `scaled` profile (see scaled_smoke below).
# VOICEMOOD_SMOKE_WORKERS: --scaled's worker containers (default 2); VOICEMOOD_SMOKE_PYTHON: a Python
# with the project's dependencies, for the fake Telegram and Discord (default: .venv's, python3);
# VOICEMOOD_SMOKE_CACHE: the bookworm root and dockerd's log (default /var/cache/voicemood-docker).
#
# Needs root (it installs Debian's docker.io, debootstrap and docker-compose when absent and
# starts dockerd when none answers). Docker Hub need not be reachable: the base is a Debian
# bookworm root made by debootstrap and `docker import`ed once (cached in $CACHE). Pip inside the
# build uses this machine's pip settings (`pip config list`): local find-links folders and file://
# indexes are served over http on 127.0.0.1 for the build (`--network host`), and pip's CA bundle
# goes in as the build secret `pip_cert`, so the image keeps neither. Not part of the test suite.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
CACHE=${VOICEMOOD_SMOKE_CACHE:-/var/cache/voicemood-docker}
BASE=${VOICEMOOD_SMOKE_BASE:-voicemood-base:bookworm}
IMAGE=${VOICEMOOD_SMOKE_IMAGE:-voicemood:smoke}
NAME=voicemood-smoke
VOLUME=voicemood-smoke-data
# The Dockerfile's HEALTHCHECK runs every 30 s; the smoke run polls it every second (same command).
HEALTH_INTERVAL=1s
FRESH=0
SCALED=0
for arg in "$@"; do
    case "$arg" in
        --fresh) FRESH=1 ;;
        --scaled) SCALED=1 ;;
        *) echo "usage: $0 [--fresh] [--scaled]" >&2; exit 2 ;;
    esac
done

WORK=$(mktemp -d /tmp/voicemood-smoke.XXXXXX)
SERVER_PID=""
declare -a ROWS=()

log() { printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
fail() { log "FAIL: $*"; exit 1; }
now() { date +%s.%N; }
since() { python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$1" "$(now)"; }
row() { ROWS+=("$(printf '%-44s %s' "$1" "$2")"); }

cleanup() {
    local status=$?
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    if [[ $SCALED == 1 ]]; then scaled_down || true; fi
    if [[ -n $SERVER_PID ]]; then kill "$SERVER_PID" 2>/dev/null || true; fi
    if [[ $status == 0 ]]; then rm -rf "$WORK"; else log "logs kept in $WORK"; fi
}
trap cleanup EXIT

ensure_docker() {
    local missing=()
    command -v dockerd >/dev/null || missing+=(docker.io)
    command -v debootstrap >/dev/null || missing+=(debootstrap)
    if [[ $SCALED == 1 ]] && ! command -v docker-compose >/dev/null; then missing+=(docker-compose); fi
    if ((${#missing[@]})); then
        log "installing ${missing[*]} from Debian"
        DEBIAN_FRONTEND=noninteractive apt-get install -y -q "${missing[@]}" >"$WORK/apt.log" 2>&1 \
            || { tail "$WORK/apt.log" >&2; fail "apt-get install ${missing[*]}"; }
    fi
    if ! docker info >/dev/null 2>&1; then
        log "starting dockerd (its log: $CACHE/dockerd.log)"
        mkdir -p "$CACHE"
        # niced: builds and containers run under it, on cores other work shares.
        setsid nohup nice -n 10 dockerd >"$CACHE/dockerd.log" 2>&1 </dev/null &
        for _ in $(seq 60); do docker info >/dev/null 2>&1 && break; sleep 1; done
        docker info >/dev/null 2>&1 || fail "dockerd did not answer; see $CACHE/dockerd.log"
    fi
}

# BuildKit (for the build secret): `docker build` is BuildKit when buildx is installed; Debian's
# 20.10 CLI (docker.io) has BuildKit built in behind DOCKER_BUILDKIT=1.
docker_build() {
    if docker buildx version >/dev/null 2>&1; then
        docker build "$@"
    else
        DOCKER_BUILDKIT=1 /usr/bin/docker build "$@"
    fi
}

ensure_base() {
    if docker image inspect "$BASE" >/dev/null 2>&1; then return; fi
    local root="$CACHE/bookworm-root"
    if [[ ! -x $root/usr/bin/python3 ]]; then
        log "debootstrap bookworm into $root (about a minute)"
        rm -rf "$root"
        nice -n 10 debootstrap --variant=minbase \
            --include=python3,python3-venv,python-is-python3,ca-certificates \
            bookworm "$root" >"$WORK/debootstrap.log" 2>&1 \
            || { tail "$WORK/debootstrap.log" >&2; fail "debootstrap"; }
    fi
    log "importing $root as $BASE"
    # apt's package lists are left out, as python:3.11-slim leaves them out (90 MB).
    tar -C "$root" --exclude='./var/cache/apt/*' --exclude='./var/lib/apt/lists/*' -c . \
        | docker import -c 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
            - "$BASE" >/dev/null
}

# This machine's pip settings as build arguments: `pip config list` and PIP_* variables, with
# local folders and file:// indexes served by a throwaway http server on 127.0.0.1.
pip_build_args() {
    # A fixed port when free: the URLs are build arguments, and a new one would void the layer cache.
    local port=${VOICEMOOD_SMOKE_PIP_PORT:-39731}
    python3 -c "import socket, sys; socket.socket().bind(('127.0.0.1', int(sys.argv[1])))" "$port" \
        2>/dev/null || port=$(free_port)
    mkdir -p "$WORK/pip"
    { pip config list 2>/dev/null || true; } >"$WORK/pip-config"
    python3 - "$WORK/pip-config" "$WORK/pip" "http://127.0.0.1:$port" >"$WORK/pip-args" <<'EOF'
"""One build argument (or flag) a line, from `pip config list` and the PIP_* variables."""
import os
import re
import sys
from pathlib import Path

config_file, served, url = sys.argv[1], Path(sys.argv[2]), sys.argv[3]
settings = {}
for line in Path(config_file).read_text().splitlines():
    key, _, value = line.partition("=")
    settings[key.rsplit(".", 1)[-1]] = value.strip("'\"")
for key in ("index-url", "extra-index-url", "find-links", "cert"):
    settings[key] = os.environ.get("PIP_" + key.upper().replace("-", "_"), settings.get(key, ""))


def local(path_or_url):
    path = re.sub(r"^file://", "", path_or_url)
    return Path(path) if path.startswith("/") and Path(path).exists() else None


def serve(path, index):
    """The folder's URL on the throwaway server (an index's parent is served: its pages link ../../files)."""
    name = f"s{len(list(served.iterdir()))}"
    (served / name).symlink_to(path.parent if index else path)
    return f"{url}/{name}/{path.name}" if index else f"{url}/{name}/"


args = []
for key, index in (("index-url", True), ("extra-index-url", True), ("find-links", False)):
    urls = [serve(p, index) if (p := local(u)) else u for u in settings[key].split()]
    if urls:
        args.append(f"PIP_{key.upper().replace('-', '_')}={' '.join(urls)}")
# torch's CPU wheel from a local folder, as the README installs it, through a one-package index.
wheels = [w for u in settings["find-links"].split() if (d := local(u)) for w in d.glob("torch-*.whl")]
if wheels:
    (served / "torch" / "torch").mkdir(parents=True)
    for wheel in wheels:
        (served / "torch" / "torch" / wheel.name).symlink_to(wheel)
    args.append(f"TORCH_INDEX={url}/torch")
if any(url in a for a in args):
    args.append("PIP_TRUSTED_HOST=127.0.0.1")
for a in args:
    print("--build-arg")
    print(a)
if settings["cert"]:
    print("--build-arg")
    print("PIP_CERT=/run/secrets/pip_cert")
    print("--secret")
    print(f"id=pip_cert,src={settings['cert']}")
EOF
    python3 -m http.server "$port" --bind 127.0.0.1 --directory "$WORK/pip" \
        >"$WORK/pip-server.log" 2>&1 &
    SERVER_PID=$!
    for _ in $(seq 50); do
        python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$port/')" \
            2>/dev/null && return
        sleep 0.1
    done
    fail "the local package server did not start"
}

build_image() {
    pip_build_args
    local args=()
    mapfile -t args <"$WORK/pip-args"
    if [[ $FRESH == 1 ]]; then args+=(--no-cache); fi
    log "building $IMAGE from $ROOT/Dockerfile (log: $WORK/build.log)"
    local t0 previous
    previous=$(docker image inspect -f '{{.Id}}' "$IMAGE" 2>/dev/null || true)
    t0=$(now)
    docker_build --network host --progress plain --build-arg "BASE_IMAGE=$BASE" "${args[@]}" \
        -t "$IMAGE" "$ROOT" >"$WORK/build.log" 2>&1 \
        || { tail -30 "$WORK/build.log" >&2; fail "docker build"; }
    row "build$([[ $FRESH == 1 ]] && echo ' (no layer cache)' || echo ' (layer cache allowed)')" "$(since "$t0") s"
    kill "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
    # The image this build replaced (2.8 GB, mostly its own copy of the venv) is not kept.
    if [[ -n $previous && $previous != $(docker image inspect -f '{{.Id}}' "$IMAGE") ]]; then
        docker image rm "$previous" >/dev/null 2>&1 || true
    fi
    local size
    size=$(docker image inspect -f '{{.Size}}' "$IMAGE")
    row "image size" "$((size / 1000000)) MB"
}

# A real voice note: an EmoDB recording from ../shared/data (read, never kept), else espeak-ng's
# voice, encoded to OGG/Opus as Telegram sends voice notes, by the ffmpeg the image ships.
make_note() {
    local source="$ROOT/../shared/data/emodb/03a01Wa.flac"
    if [[ ! -f $source ]]; then
        command -v espeak-ng >/dev/null || fail "no recording in ../shared/data and no espeak-ng"
        espeak-ng -w "$WORK/voice.wav" "I told you twice already, this has to stop now."
        source="$WORK/voice.wav"
    fi
    docker run -i --rm --network none --entrypoint sh "$IMAGE" -c \
        'exec "$(python -c "import imageio_ffmpeg; print(imageio_ffmpeg.get_ffmpeg_exe())")" -v error -i pipe:0 -ac 1 -ar 48000 -c:a libopus -b:a 32k -f ogg pipe:1' \
        <"$source" >"$WORK/note.ogg"
    [[ -s $WORK/note.ogg ]] || fail "encoding the voice note"
}

# Seconds from `docker run` to the health check's first "healthy".
start_container() {
    local t0 status
    t0=$(now)
    docker run -d --name "$NAME" -p "127.0.0.1:$WEB_PORT:8080" -v "$VOLUME:/data" \
        --health-interval "$HEALTH_INTERVAL" "$IMAGE" >/dev/null
    for _ in $(seq 300); do
        status=$(docker inspect -f '{{.State.Status}} {{.State.Health.Status}}' "$NAME")
        case "$status" in
            "running healthy") since "$t0"; return ;;
            exited*) docker logs "$NAME" >&2; fail "the container exited while starting" ;;
        esac
        sleep 0.2
    done
    docker logs "$NAME" 2>&1 | tail -20 >&2
    fail "not healthy after 60 s ($status)"
}

free_port() {
    python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}

json_field() { python3 -c "import json, sys; print(json.load(sys.stdin)$1)"; }

single_smoke() {
    WEB_PORT=$(free_port)
    docker rm -f "$NAME" >/dev/null 2>&1 || true
    docker volume rm -f "$VOLUME" >/dev/null 2>&1 || true
    docker volume create "$VOLUME" >/dev/null
    make_note

    row "cold start to healthy (new container)" "$(start_container) s"

    local web="http://127.0.0.1:$WEB_PORT" answer label note_id t0
    t0=$(now)
    # remember=1: the visitor's consent to keep the answer (never the audio) for this browser.
    answer=$(curl -sS --fail-with-body -c "$WORK/cookies" -F remember=1 \
        -F "audio=@$WORK/note.ogg;type=audio/ogg" "$web/api/analyse") \
        || fail "POST /api/analyse: $answer"
    row "web: POST /api/analyse, 2 s voice note" "$(since "$t0") s"
    label=$(json_field "['label']" <<<"$answer")
    note_id=$(json_field "['note_id']" <<<"$answer")
    [[ $label != None && $note_id != None ]] || fail "the web answer has no label or note: $answer"
    log "web answer: $label (note $note_id)"
    t0=$(now)
    curl -sS --fail -o /dev/null -F "audio=@$WORK/note.ogg;type=audio/ogg" "$web/api/analyse" \
        || fail "a second POST /api/analyse"
    row "web: the same note again (warm)" "$(since "$t0") s"

    docker cp "$WORK/note.ogg" "$NAME:/tmp/note.ogg"
    t0=$(now)
    answer=$(docker exec "$NAME" voicemood classify --json /tmp/note.ogg 2>"$WORK/classify.err") \
        || { cat "$WORK/classify.err" >&2; fail "voicemood classify inside the container"; }
    row "docker exec voicemood classify (new process)" "$(since "$t0") s"
    [[ $(json_field "['label']" <<<"$answer") == "$label" ]] \
        || fail "classify inside heard another tone than the web page: $answer"

    local uid
    uid=$(docker exec "$NAME" awk '/^Uid:/ {print $2}' /proc/1/status)
    [[ $uid != 0 ]] || fail "the container's main process runs as root"
    row "main process uid" "$uid"
    docker exec "$NAME" test -s /data/voicemood.sqlite3 || fail "no SQLite file in /data"

    # compose's stop_grace_period; a process that ignored SIGTERM would take all of it, exit 137.
    local grace
    grace=$(sed -n 's/^ *stop_grace_period: *\([0-9]*\)s$/\1/p' "$ROOT/docker-compose.yml" | head -1)
    t0=$(now)
    docker stop -t "$grace" "$NAME" >/dev/null
    local took code
    took=$(since "$t0")
    code=$(docker inspect -f '{{.State.ExitCode}}' "$NAME")
    python3 -c "import sys; sys.exit(not float(sys.argv[1]) < float(sys.argv[2]))" "$took" "$grace" \
        || fail "stopping took ${took} s, not under the ${grace} s grace period"
    [[ $code == 0 ]] || fail "stopped with exit code $code"
    row "docker stop (grace ${grace} s), exit $code" "$took s"

    # A new container (as after an image update) on the same volume finds the same browser's note.
    docker rm "$NAME" >/dev/null
    row "start to healthy, same volume (new container)" "$(start_container) s"
    local history
    history=$(curl -sS --fail-with-body -b "$WORK/cookies" "$web/api/me/history") \
        || fail "GET /api/me/history: $history"
    json_field "['text']" <<<"$history" | grep -q "1 voice note" \
        || fail "the remembered note did not survive the restart: $(json_field "['text']" <<<"$history")"
    docker rm -f "$NAME" >/dev/null
}

# --scaled: `docker compose --profile scaled up` with the operators' compose file and only
# bench/docker_smoke/docker-compose.smoke.yml laid over it. Debian's compose is docker-compose
# 1.29 (the Python one; the `docker compose` plugin is not packaged for bookworm): it reads the
# same file, and `--scale` sets the replica counts deploy.replicas names.
PROJECT=voicemood-smoke
DRIVER_PID=""
compose() {
    VOICEMOOD_SMOKE_IMAGE="$IMAGE" docker-compose -p "$PROJECT" --project-directory "$WORK/compose" \
        -f "$WORK/compose/docker-compose.yml" -f "$WORK/compose/docker-compose.smoke.yml" \
        --profile scaled "$@"
}

scaled_down() {
    if [[ -n $DRIVER_PID ]]; then kill "$DRIVER_PID" 2>/dev/null || true; fi
    if [[ -f $WORK/compose/docker-compose.yml ]]; then
        compose logs --no-color >"$WORK/compose.log" 2>&1 || true
        compose down -v --remove-orphans >/dev/null 2>&1 || true
    fi
}

scaled_smoke() {
    local workers=${VOICEMOOD_SMOKE_WORKERS:-2} python=${VOICEMOOD_SMOKE_PYTHON:-}
    if [[ -z $python ]]; then
        for python in "$ROOT/.venv/bin/python" python3 python; do
            PYTHONPATH=$ROOT "$python" -c 'import telegram, discord, aiohttp' 2>/dev/null && break
        done
    fi
    PYTHONPATH=$ROOT "$python" -c 'import telegram, discord, aiohttp' 2>/dev/null \
        || fail "--scaled runs the fake Telegram and Discord with the project's Python: set VOICEMOOD_SMOKE_PYTHON"
    for service in postgres redis; do
        log "building the stand-in for $service"
        docker_build --network host --build-arg "BASE_IMAGE=$BASE" \
            -f "$ROOT/bench/docker_smoke/$service.Dockerfile" -t "voicemood-smoke-$service" \
            "$ROOT/bench/docker_smoke" >"$WORK/build-$service.log" 2>&1 \
            || { tail -20 "$WORK/build-$service.log" >&2; fail "building voicemood-smoke-$service"; }
    done
    mkdir -p "$WORK/compose" "$WORK/platforms"
    cp "$ROOT/docker-compose.yml" "$ROOT/bench/docker_smoke/docker-compose.smoke.yml" "$WORK/compose/"
    {
        echo "VOICEMOOD_POSTGRES_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')"
        # Registered with the fake, never contacted: the driver posts to each replica directly.
        echo "VOICEMOOD_TELEGRAM_WEBHOOK_URL=https://voicemood.invalid/telegram"
    } >"$WORK/compose/.env"
    compose down -v --remove-orphans >/dev/null 2>&1 || true

    local t0
    t0=$(now)
    compose up -d --no-build postgres redis >"$WORK/compose-up.log" 2>&1 \
        || { cat "$WORK/compose-up.log" >&2; fail "compose up postgres redis"; }
    local gateway
    gateway=$(docker network inspect -f '{{(index .IPAM.Config 0).Gateway}}' "${PROJECT}_default")
    PYTHONPATH=$ROOT "$python" "$ROOT/bench/docker_smoke/platforms.py" --host "$gateway" \
        --dir "$WORK/platforms" --note "$WORK/note.ogg" >"$WORK/platforms.log" 2>&1 &
    DRIVER_PID=$!
    for _ in $(seq 100); do [[ -s $WORK/platforms/env ]] && break; sleep 0.2; done
    [[ -s $WORK/platforms/env ]] || { cat "$WORK/platforms.log" >&2; fail "the fake platforms did not start"; }
    cat "$WORK/platforms/env" >>"$WORK/compose/.env"
    compose up -d --no-build --scale voicemood=0 --scale "worker=$workers" --scale telegram=1 \
        >>"$WORK/compose-up.log" 2>&1 || { cat "$WORK/compose-up.log" >&2; fail "compose up"; }

    local containers=() unhealthy c
    mapfile -t containers < <(compose ps -q)
    ((${#containers[@]} == workers + 5)) || fail "${#containers[@]} containers, not $((workers + 5))"
    for _ in $(seq 600); do
        unhealthy=()
        for c in "${containers[@]}"; do
            [[ $(docker inspect -f '{{.State.Health.Status}}' "$c") == healthy ]] \
                || unhealthy+=("$(docker inspect -f '{{.Name}}' "$c")")
        done
        ((${#unhealthy[@]} == 0)) && break
        sleep 0.5
    done
    ((${#unhealthy[@]} == 0)) || fail "not healthy after 300 s: ${unhealthy[*]}"
    row "scaled: up to all ${#containers[@]} healthy ($workers workers)" "$(since "$t0") s"

    local urls=()
    for c in $(compose ps -q telegram); do
        urls+=("http://$(docker inspect -f '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}' "$c"):8443/telegram")
    done
    printf '%s\n' "${urls[@]}" >"$WORK/platforms/go.part"
    mv "$WORK/platforms/go.part" "$WORK/platforms/go"
    wait "$DRIVER_PID" || { cat "$WORK/platforms.log" "$WORK/platforms/result.json" >&2; fail "the voice note through Telegram"; }
    DRIVER_PID=""
    local result="$WORK/platforms/result.json"
    log "Telegram answer: $(json_field "['answer'].splitlines()[0]" <"$result")"
    row "scaled: webhook -> worker -> Telegram answer" "$(json_field "['answer_s']" <"$result") s"

    local stored
    stored=$(compose exec -T postgres psql -U voicemood -d voicemood -tAc \
        "SELECT count(*) FROM notes n JOIN persons p ON p.id = n.person_id WHERE p.platform = 'telegram'")
    ((stored == 1)) || fail "PostgreSQL holds $stored Telegram notes, not 1"
    row "scaled: notes stored in PostgreSQL" "$stored"
    # The worker that answered: its heartbeat counts the note and names its container's hostname.
    local health answered
    health=$(compose exec -T worker voicemood worker --health)
    answered=$(awk -F'\t' '/processed=[1-9]/ {sub("host=", "", $5); print $5}' <<<"$health")
    [[ -n $answered ]] || fail "no worker processed the note: $health"
    for c in $(compose ps -q worker); do
        [[ $(docker inspect -f '{{.Config.Hostname}}' "$c") == "$answered" ]] \
            && row "scaled: answered by worker container" "$(docker inspect -f '{{.Name}}' "$c" | tr -d /)"
    done
    grep -q "answered by worker" <<<"${ROWS[*]}" || fail "the worker $answered is no container of $PROJECT"

    t0=$(now)
    compose stop >/dev/null 2>&1
    row "scaled: compose stop, every container" "$(since "$t0") s"
    local code
    for c in "${containers[@]}"; do
        code=$(docker inspect -f '{{.State.ExitCode}}' "$c")
        [[ $code == 0 ]] || fail "$(docker inspect -f '{{.Name}}' "$c") stopped with exit code $code"
    done
}

ensure_docker
ensure_base
build_image
single_smoke
if [[ $SCALED == 1 ]]; then scaled_smoke; fi

printf '\n%-44s %s\n' "VoiceMood in Docker ($(date -u +%F), $(nproc) cores)" ""
printf '%s\n' "${ROWS[@]}"
log "all checks passed"
