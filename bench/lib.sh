# shellcheck shell=bash
# bench/lib.sh — sourced by the benchmark drivers (bench/run.sh, outbox.sh,
# sync.sh) right after `set -euo pipefail`, with the driver's arguments:
#
#   bench_args "$@"      checks the one argument, BUILD_DIR, and sets it;
#   find_bin NAME        the path of a built binary (BUILD_DIR or BUILD_DIR/bench);
#   bench_work NAME      makes the work dir WORK under BENCH_TMPDIR (default
#                        BUILD_DIR), from mktemp's template bench-NAME.XXXXXX;
#   bench_run_copies     copies clinicbox and bench_loadgen into WORK/bin and
#                        points CLINICBOX and LOADGEN at the copies, so a rebuild
#                        during the run cannot mix two binaries (CLINICBOX_BUILT
#                        says which build it was);
#   PIDS, stop_pid PID   the processes a benchmark started, stopped at exit,
#                        when the work dir is also removed (BENCH_KEEP=1 keeps it);
#   bench_token DATA     authenticates as a clinic's scripts would: an admin API
#                        token for the data dir DATA (see below).

bench_args() {
    if [ $# -ne 1 ] || [ ! -d "$1" ]; then
        echo "usage: bench/${0##*/} BUILD_DIR" >&2
        exit 2
    fi
    BUILD_DIR=$(cd "$1" && pwd)
}

find_bin() {
    local name=$1 d
    for d in "$BUILD_DIR" "$BUILD_DIR/bench"; do
        if [ -x "$d/$name" ]; then
            echo "$d/$name"
            return 0
        fi
    done
    echo "bench/${0##*/}: $name not found in $BUILD_DIR" >&2
    return 1
}

bench_work() {
    WORK=$(mktemp -d "${BENCH_TMPDIR:-$BUILD_DIR}/bench-$1.XXXXXX")
}

bench_run_copies() {
    mkdir -p "$WORK/bin"
    cp "$CLINICBOX" "$WORK/bin/clinicbox"
    cp "$LOADGEN" "$WORK/bin/bench_loadgen"
    # shellcheck disable=SC2034 # read by the drivers' summaries
    CLINICBOX_BUILT="$CLINICBOX built $(date -u -r "$CLINICBOX" '+%F %T UTC')"
    CLINICBOX="$WORK/bin/clinicbox"
    LOADGEN="$WORK/bin/bench_loadgen"
}

# bench_token DATA [--load]: sets API_TOKEN and AUTH_HEADER (for bench_loadgen
# -H) and exports BENCH_API_TOKEN (read by the Python helpers, so the token is
# not on their command lines) for DATA's admin API token. It is made with
# `clinicbox token create` the first time, which must be after a server has
# started on DATA (the server, not the command, migrates a new database; the
# command works while the server runs), and kept in DATA/bench-api-token, so a
# copy of DATA brings the token along with the database that knows it.
# --load only reads a kept token (none: API_TOKEN is emptied), for a server
# that has just been launched on a copy and is watched from its first moment.
bench_token() {
    local data=$1 file=$1/bench-api-token out
    if [ ! -s "$file" ] && [ "${2:-}" != --load ]; then
        # the token is the last word of the command's output; its log line
        # goes to WORK/token.log
        if ! out=$("$CLINICBOX" token create --data "$data" --name bench --role admin \
            2>>"$WORK/token.log"); then
            echo "bench/${0##*/}: clinicbox token create failed for $data:" >&2
            tail -n 5 "$WORK/token.log" >&2 || true
            return 1
        fi
        out=$(printf '%s\n' "$out" | awk 'NF {t = $NF} END {print t}')
        (umask 077 && printf '%s\n' "$out" >"$file")
    fi
    API_TOKEN=""
    [ ! -s "$file" ] || API_TOKEN=$(cat "$file")
    # shellcheck disable=SC2034 # used by the drivers (bench_loadgen -H)
    AUTH_HEADER="Authorization: Bearer $API_TOKEN"
    export BENCH_API_TOKEN=$API_TOKEN
}

PIDS=()
stop_pid() { # stop_pid PID: TERM, wait up to 10 s, then KILL
    local pid=$1
    kill -0 "$pid" 2>/dev/null || return 0
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 100); do
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    if kill -0 "$pid" 2>/dev/null; then
        echo "${0##*/}: process $pid did not stop on TERM; killing it" >&2
        kill -KILL "$pid" 2>/dev/null || true
    fi
    wait "$pid" 2>/dev/null || true
}
cleanup() {
    local pid
    for pid in "${PIDS[@]}"; do
        stop_pid "$pid"
    done
    [ -n "${WORK:-}" ] || return 0
    if [ "${BENCH_KEEP:-0}" = 1 ]; then
        echo "work dir kept: $WORK"
    else
        rm -rf "$WORK"
    fi
}
trap cleanup EXIT
trap 'exit 1' INT TERM
