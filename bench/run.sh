#!/usr/bin/env bash
# bench/run.sh BUILD_DIR — clinicbox's load benchmark, with its two limits
# measured in the same run on the same machine. See docs/benchmark.md.
#
# BUILD_DIR holds clinicbox and bench_loadgen, bench_sqlite_raw,
# bench_tiny_http (also looked for in BUILD_DIR/bench). All traffic is on
# 127.0.0.1, ports are chosen at run time, every phase is bounded in time.
#
# Phases:
#   1. bench_sqlite_raw: single-row commits (WAL, synchronous=FULL,
#      foreign_keys=ON) in a fresh file next to the data dir.
#   2. bench_tiny_http (civetweb, 128 threads, keep-alive) loaded by
#      bench_loadgen with the same client count.
#   3. clinicbox: an admin API token (clinicbox token create; every request
#      sends it), setup, booking (measured window, then booking on until
#      BENCH_APPOINTMENTS exist), available-slots (measured window), VmHWM.
#   4. summary with targets and PASS/MISS.
#
# BENCH_OUTBOX=1 runs the outbox benchmark (bench/outbox.sh BUILD_DIR, about
# 100 s more) after the summary; its exit status then counts too.
# BENCH_SYNC=1 runs the sync benchmark (bench/sync.sh BUILD_DIR, about 20
# minutes more against jongodb) after that; its exit status then counts too.
#
# Knobs (environment): BENCH_CLIENTS (64), BENCH_DURATION (10 s per measured
# phase), BENCH_WARMUP (1 s), BENCH_APPOINTMENTS (100000), BENCH_DOCTORS (20),
# BENCH_FILL_TIMEOUT (300 s), BENCH_BASE_DATE (UTC date 30 days ahead),
# BENCH_SLOT_DAYS (104), BENCH_TMPDIR (BUILD_DIR; the data dir and the raw
# SQLite file go under it), BENCH_KEEP=1 keeps the work dir.
# Exit status: 0 when every phase ran (targets may still be missed), 1 when a
# phase failed, 2 on bad usage.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"

CLINICBOX=$(find_bin clinicbox)
LOADGEN=$(find_bin bench_loadgen)
SQLITE_RAW=$(find_bin bench_sqlite_raw)
TINY_HTTP=$(find_bin bench_tiny_http)

CLIENTS=${BENCH_CLIENTS:-64}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-1}
APPOINTMENTS=${BENCH_APPOINTMENTS:-100000}
DOCTORS=${BENCH_DOCTORS:-20}
FILL_TIMEOUT=${BENCH_FILL_TIMEOUT:-300}
BASE_DATE=${BENCH_BASE_DATE:-$(date -u -d '+30 days' +%F)}
SLOT_DAYS=${BENCH_SLOT_DAYS:-104}
SLOT_MINUTES=15

bench_work run
mkdir -p "$WORK/data" "$WORK/raw"


# result FILE PHASE KEY: the value of KEY on the "RESULT phase=PHASE" line.
result() {
    awk -v phase="phase=$2" -v key="$3" '
        $1 == "RESULT" {
            ok = (phase == "phase=") ? 1 : 0
            for (i = 2; i <= NF; i++) if ($i == phase) ok = 1
            if (!ok) next
            for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == key) v = kv[2]
            }
        }
        END { if (v == "") v = "nan"; print v }' "$1"
}

fail() {
    echo "bench/run.sh: $*" >&2
    exit 1
}

START=$(date +%s)
echo "== clinicbox load benchmark =="
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "work dir: $WORK (filesystem: $(df -P "$WORK" | awk 'NR==2 {print $1}'))"
echo "clients: $CLIENTS, measured phases: ${DURATION} s after ${WARMUP} s warm-up"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
echo

# ---------------------------------------------------------------- 1. SQLite
echo "-- 1. SQLite raw single-row commits (${DURATION} s)"
"$SQLITE_RAW" --dir "$WORK/raw" --duration "$DURATION" | tee "$WORK/raw.out"
RAW_RATE=$(result "$WORK/raw.out" "" rate)
echo

# ------------------------------------------------------------- 2. tiny HTTP
echo "-- 2. civetweb tiny response ({\"ok\":true}, 128 threads, keep-alive)"
"$TINY_HTTP" --listen 127.0.0.1:0 --threads 128 --port-file "$WORK/tiny.port" \
    >"$WORK/tiny.stdout" 2>"$WORK/tiny.stderr" &
TINY_PID=$!
PIDS+=("$TINY_PID")
for _ in $(seq 1 100); do
    [ -s "$WORK/tiny.port" ] && break
    kill -0 "$TINY_PID" 2>/dev/null || break
    sleep 0.1
done
[ -s "$WORK/tiny.port" ] || fail "bench_tiny_http did not start: $(cat "$WORK/tiny.stderr")"
TINY_PORT=$(cat "$WORK/tiny.port")
"$LOADGEN" run --target "127.0.0.1:$TINY_PORT" --clients "$CLIENTS" --duration "$DURATION" \
    --warmup "$WARMUP" --scenario fixed --method GET --path / --label tiny \
    | tee "$WORK/tiny.out" || fail "load on bench_tiny_http failed"
stop_pid "$TINY_PID"
TINY_RATE=$(result "$WORK/tiny.out" measured ok_rps)
TINY_P50=$(result "$WORK/tiny.out" measured p50_ms)
TINY_P99=$(result "$WORK/tiny.out" measured p99_ms)
echo

# -------------------------------------------------------------- 3. clinicbox
echo "-- 3. clinicbox ($CLINICBOX)"
PORT=$("$LOADGEN" freeport)
# All clients come from 127.0.0.1: no per-address connection cap (what is
# measured is throughput, not the limits of docs/security.md). Plain HTTP
# (tls=off): the load generator speaks no TLS, like tiny_http.
"$CLINICBOX" serve --data "$WORK/data" --listen "127.0.0.1:$PORT" --set tls=off \
    --set http_max_connections_per_address=0 >"$WORK/clinicbox.stdout" 2>"$WORK/clinicbox.log" &
SERVER_PID=$!
PIDS+=("$SERVER_PID")
if ! "$LOADGEN" wait --target "127.0.0.1:$PORT" --path /api/health --timeout 30 \
    --pid "$SERVER_PID"; then
    tail -n 20 "$WORK/clinicbox.log" >&2 || true
    fail "clinicbox did not become ready"
fi
echo "clinicbox pid $SERVER_PID listening on 127.0.0.1:$PORT, data $WORK/data"
# Every request authenticates, as a clinic's scripts do: an admin API token.
bench_token "$WORK/data" || fail "could not make an API token"
"$LOADGEN" setup -H "$AUTH_HEADER" --target "127.0.0.1:$PORT" --out "$WORK/ids.txt" --doctors "$DOCTORS" \
    --patients "$CLIENTS" --slot-minutes "$SLOT_MINUTES" || fail "setup failed"
RSS_IDLE_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
echo

echo "-- 3a. bookings: POST /api/appointments, base date $BASE_DATE; measured window," \
     "then booking on (throughput only) until $APPOINTMENTS bookings exist"
"$LOADGEN" run --target "127.0.0.1:$PORT" --clients "$CLIENTS" --duration "$DURATION" \
    --warmup "$WARMUP" -H "$AUTH_HEADER" --scenario book --ids "$WORK/ids.txt" --base-date "$BASE_DATE" \
    --slot-minutes "$SLOT_MINUTES" --fill-to "$APPOINTMENTS" --fill-timeout "$FILL_TIMEOUT" \
    | tee "$WORK/book.out" || echo "bench/run.sh: booking phase had no successful booking" >&2
BOOK_RATE=$(result "$WORK/book.out" measured ok_rps)
BOOK_P50=$(result "$WORK/book.out" measured p50_ms)
BOOK_P99=$(result "$WORK/book.out" measured p99_ms)
BOOK_OTHER=$(result "$WORK/book.out" measured other)
BOOK_ERR=$(result "$WORK/book.out" measured errors)
FILL_RATE=$(result "$WORK/book.out" fill ok_rps)
FILL_OTHER=$(result "$WORK/book.out" fill other)
CREATED=$(result "$WORK/book.out" fill created_total)
CREATED_AT_END=$(result "$WORK/book.out" fill created_at_end)
FILL_SECS=$(result "$WORK/book.out" fill seconds)
kill -0 "$SERVER_PID" 2>/dev/null || fail "clinicbox exited during the booking phase"
echo

echo "-- 3b. available slots: GET /api/doctors/{id}/available-slots, one day," \
     "random doctor, random day in $SLOT_DAYS days from $BASE_DATE"
"$LOADGEN" run --target "127.0.0.1:$PORT" --clients "$CLIENTS" --duration "$DURATION" \
    --warmup "$WARMUP" -H "$AUTH_HEADER" --scenario slots --ids "$WORK/ids.txt" --base-date "$BASE_DATE" \
    --slot-minutes "$SLOT_MINUTES" --days "$SLOT_DAYS" \
    | tee "$WORK/slots.out" || echo "bench/run.sh: slots phase had no 200 answer" >&2
SLOTS_RATE=$(result "$WORK/slots.out" measured ok_rps)
SLOTS_P50=$(result "$WORK/slots.out" measured p50_ms)
SLOTS_P99=$(result "$WORK/slots.out" measured p99_ms)
SLOTS_OTHER=$(result "$WORK/slots.out" measured other)
SLOTS_ERR=$(result "$WORK/slots.out" measured errors)
echo

kill -0 "$SERVER_PID" 2>/dev/null || fail "clinicbox exited during the slots phase"
HWM_KB=$(awk '/^VmHWM:/ {print $2}' "/proc/$SERVER_PID/status")
RSS_KB=$(awk '/^VmRSS:/ {print $2}' "/proc/$SERVER_PID/status")
THREADS=$(awk '/^Threads:/ {print $2}' "/proc/$SERVER_PID/status")
RSS_PARTS=$(awk '/^Rss(Anon|File|Shmem):/ {printf "%s%s %s kB", sep, $1, $2; sep=", "}' \
    "/proc/$SERVER_PID/status")
echo "-- 3c. clinicbox memory: VmHWM $HWM_KB kB, VmRSS $RSS_KB kB now ($RSS_PARTS)," \
     "$RSS_IDLE_KB kB after setup; $THREADS threads"
stop_pid "$SERVER_PID"
DB_KB=$(du -sk "$WORK/data" | awk '{print $1}')
STORED="n/a"
if command -v sqlite3 >/dev/null; then
    for db in "$WORK"/data/*.db "$WORK"/data/*.sqlite "$WORK"/data/*.sqlite3; do
        [ -f "$db" ] || continue
        n=$(sqlite3 "$db" "SELECT count(*) FROM appointments" 2>/dev/null) && STORED=$n && break
    done
fi
echo "data dir after shutdown: $DB_KB kB; rows in the appointments table: $STORED"
echo

# ------------------------------------------------------------------ summary
ELAPSED=$(($(date +%s) - START))
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
awk -v clients="$CLIENTS" -v dur="$DURATION" -v raw="$RAW_RATE" -v tiny="$TINY_RATE" \
    -v tiny50="$TINY_P50" -v tiny99="$TINY_P99" \
    -v book="$BOOK_RATE" -v b50="$BOOK_P50" -v b99="$BOOK_P99" \
    -v bother="$BOOK_OTHER" -v berr="$BOOK_ERR" -v fill="$FILL_RATE" -v fother="$FILL_OTHER" \
    -v created="$CREATED" -v want="$APPOINTMENTS" -v at_end="$CREATED_AT_END" \
    -v fsecs="$FILL_SECS" \
    -v slots="$SLOTS_RATE" -v s50="$SLOTS_P50" -v s99="$SLOTS_P99" \
    -v sother="$SLOTS_OTHER" -v serr="$SLOTS_ERR" -v hwm="$HWM_KB" -v elapsed="$ELAPSED" '
function num(x) { return (x == "nan" || x == "") ? -1 : x + 0 }
function verdict(ok, known) { return known ? (ok ? "PASS" : "MISS") : "n/a" }
BEGIN {
    printf "== summary: %d clients, %d s measured phases, run took %d s ==\n", clients, dur, elapsed
    printf "%-44s %-22s %-34s %s\n", "figure", "measured", "target", "result"
    b = num(book); r = num(raw)
    printf "%-44s %-22s %-34s %s\n", "durable bookings/s (201 answers)", sprintf("%.1f", b),
        sprintf(">= %.1f (raw SQLite commits/s)", r), verdict(b >= r, b >= 0 && r >= 0)
    printf "%-44s %-22s %-34s %s\n", "booking latency p50 / p99",
        sprintf("%.2f / %.2f ms", num(b50), num(b99)), "p99 < 10 ms",
        verdict(num(b99) < 10, num(b99) >= 0 && b > 0)
    s = num(slots); t = num(tiny)
    printf "%-44s %-22s %-34s %s\n", "available-slots/s (200 answers)", sprintf("%.1f", s),
        sprintf(">= %.1f (0.5 x tiny/s)", 0.5 * t), verdict(s >= 0.5 * t, s >= 0 && t >= 0)
    printf "%-44s %-22s %-34s %s\n", "available-slots latency p50 / p99",
        sprintf("%.2f / %.2f ms", num(s50), num(s99)), "-", "-"
    c = num(created); h = num(hwm)
    label = sprintf("peak RSS (VmHWM), %d appointments stored", c)
    printf "%-44s %-22s %-34s %s\n", label, sprintf("%.1f MiB", h / 1024), "< 32 MiB with " want,
        (c < want) ? "MISS (too few appointments)" : verdict(h < 32 * 1024, h >= 0)
    printf "limits measured in this run:\n"
    printf "  SQLite raw single-row commits (WAL, synchronous=FULL, foreign_keys=ON): %.1f/s\n", r
    printf "  civetweb tiny response, %d clients: %.1f/s, p50 %.2f ms, p99 %.2f ms\n", clients, t,
        num(tiny50), num(tiny99)
    printf "other answers: bookings measured %s non-201, %s transport errors; fill %s non-201;" \
        " slots %s non-200, %s transport errors\n", bother, berr, fother, sother, serr
    if (num(at_end) >= want)
        printf "bookings after the measured window: none needed (%d existed at its end)\n", num(at_end)
    else
        printf "booking on after the measured window (%d -> %d in %.1f s): %.1f bookings/s\n",
            num(at_end), c, num(fsecs), num(fill)
}'

if [ "${BENCH_OUTBOX:-0}" = 1 ]; then
    echo
    "$(dirname "${BASH_SOURCE[0]}")/outbox.sh" "$BUILD_DIR"
fi

if [ "${BENCH_SYNC:-0}" = 1 ]; then
    echo
    "$(dirname "${BASH_SOURCE[0]}")/sync.sh" "$BUILD_DIR"
fi
