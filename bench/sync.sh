#!/usr/bin/env bash
# bench/sync.sh BUILD_DIR — the sync benchmark: how fast a box pushes its
# records to the central MongoDB and takes in central changes, how long it
# takes to catch up after a long time offline (BENCH_SYNC_LOCAL local
# bookings and BENCH_SYNC_CENTRAL central changes; the target is under 2
# minutes with bounded memory), and how fast it books while it catches up,
# against how fast it books with no sync at all. The limits (what the central
# server takes from pymongo making the same reads and writes alone, on an
# idle server) are measured in the same run. See docs/sync.md for the design.
#
# BUILD_DIR holds clinicbox and bench_loadgen (also looked for in
# BUILD_DIR/bench). The central server is the test suite's jongodb (an
# in-memory MongoDB-compatible server; `npm ci --prefix tests/servers`
# installs it), or a real mongod given as BENCH_SYNC_MONGOD=127.0.0.1:PORT
# (no auth; databases bench_sync_<random>_* are made there and dropped at
# the end). With jongodb, each group of phases gets its own instance (a
# "world"), stopped when the group is done: a box stopped in the middle of a
# push leaves the server working through the rest of that bulk write, which
# must not slow the phases after it. Central writes, the watcher, the limits
# and a TCP proxy that can cut the box off are bench/sync_peers.py, run with
# Debian's /usr/bin/python3 (it needs pymongo); the CPU snapshots are
# bench/outbox_peers.py's. All traffic is on 127.0.0.1, ports are chosen at
# run time, every wait is bounded. Every request to a box sends its data
# dir's admin API token (made with `clinicbox token create` once the server
# is up; bench/lib.sh). Every box runs with
# CLINICBOX_SYNC_INTERVAL_SECONDS=1 and, when it has one, a mongo_uri with
# serverSelectionTimeoutMS=2000&connectTimeoutMS=2000.
#
# Phases:
#   0. prep: clinicbox with no mongo_uri; bench_loadgen setup (20 doctors
#      open 24/7 with 15-minute slots, BENCH_CLIENTS patients, each with an
#      email and a phone); BENCH_SYNC_LOCAL bookings (each also writes two
#      confirmation rows, which are synced records too).
#   1. push (world "push"): first the limit, on the idle server: pymongo
#      pushes the records of `clinicbox sync --dump` of the prep data dir
#      with guarded upserts for BENCH_SYNC_LIMIT_SECONDS, then with plain
#      insert_many (what the box does for records central has never had),
#      then one guarded upsert into a collection as big as the biggest one
#      the push makes. Then a copy of the prep data dir starts
#      with a mongo_uri to an empty database: the first contact journals and
#      pushes every record. Timed from the launch until a round completed
#      with nothing pending (records/s), or for at most BENCH_SYNC_TIMEOUT
#      (then the rate is of the journal rows cleared so far).
#   2. offline prep (worlds "catchup", "load", "pull"): a new box reaches
#      the "catchup" server through the proxy; setup; the box seeds the
#      database; it is stopped and its data dir kept ("seeded"). The proxy
#      is cut (connections refused), the box restarted and BENCH_SYNC_LOCAL
#      bookings made on it (journaled, not pushed: it fails a round every
#      second). Then BENCH_SYNC_CENTRAL central changes are written in the
#      documented shape (counter, documents, change entries): half new
#      patients, half bookings for them, on days after the box's bookings
#      (timed: the central write rate); the central database is then copied
#      to the worlds "load" and "pull".
#   3. pull (world "pull"): first the limit: pymongo makes the pull's reads
#      alone (the change-log query and the documents' $in queries) on 20
#      batches spread over the log. Then a copy of the seeded data dir (no
#      local changes) starts and is timed until its pull checkpoint reaches
#      the last change (changes/s), and then BENCH_SYNC_PULL_TAIL more seconds
#      at most while it pushes what taking them in made (each central booking
#      makes two confirmation rows). Peak RSS (VmHWM) of that process.
#   4. catch-up (world "catchup"): a copy of the offline data dir starts
#      with the proxy cut and fails a round; then the proxy is healed and the
#      catch-up is timed until the checkpoint reaches the last change and
#      nothing is left to push, for at most BENCH_SYNC_TIMEOUT. "30 days
#      offline" is the volume: no clock is moved (nothing the box does on
#      reconnecting depends on how long it was away, so faketime is not
#      needed). When it finished, both sides are compared (`clinicbox sync
#      --dump` against the central documents).
#   5. booking rate (bench_loadgen, BENCH_CLIENTS clients, BENCH_WARMUP s +
#      BENCH_DURATION s measured, on days nobody booked yet), each on its own
#      copy of the offline data dir unless said:
#      a) no mongo_uri (the baseline; the journal is emptied at start);
#      b) the same catch-up as 4 (world "load"); the proxy heals and the
#         load starts as soon as the box has taken in its first central
#         change (about 5 s later: for that long libmongoc does not try a
#         server that failed again, so the rounds still fail); the
#         catch-up's progress at the end of the window, and the time until
#         it is complete (the window's bookings included), for at most
#         BENCH_SYNC_TIMEOUT from the heal;
#      c) the box of phase 4, caught up, link up: it pushes its new bookings
#         every second while the clients book (only when phase 4 finished);
#      d) the baseline again (a and d bracket the others).
#   6. summary.
#
# Knobs (environment): BENCH_SYNC_LOCAL (5000), BENCH_SYNC_CENTRAL (50000,
# at most 999999), BENCH_CLIENTS (64), BENCH_DURATION (10), BENCH_WARMUP (1),
# BENCH_SYNC_TIMEOUT (300 s: the longest wait for a push or a catch-up),
# BENCH_SYNC_PULL_TAIL (20 s), BENCH_SYNC_LIMIT_SECONDS (10 s),
# BENCH_SYNC_TARGET (120 s, the catch-up target), BENCH_SYNC_MONGOD (unset:
# jongodb), BENCH_SYNC_INDEXES (off against jongodb: the box's central
# indexes, see start_server), BENCH_PYTHON (/usr/bin/python3), BENCH_JONGODB
# (tests/servers/node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/
# jongodb), BENCH_BASE_DATE (UTC date 30 days ahead), BENCH_TMPDIR
# (BUILD_DIR), BENCH_KEEP=1 keeps the work dir. clinicbox and bench_loadgen
# are copied into the work dir first, so a rebuild during the run cannot mix
# binaries.
# Exit status: 0 when every phase ran (a figure may still miss its target, a
# wait may have run out of BENCH_SYNC_TIMEOUT, or the two sides may disagree:
# the summary says so), 1 when a phase failed, 2 on bad usage or a missing
# prerequisite.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

CLINICBOX=$(find_bin clinicbox)
LOADGEN=$(find_bin bench_loadgen)
PY=${BENCH_PYTHON:-/usr/bin/python3}
PEERS_PY="$HERE/sync_peers.py"
OUTBOX_PY="$HERE/outbox_peers.py"
JONGODB=${BENCH_JONGODB:-$HERE/../tests/servers/node_modules/@jongodb/memory-server-bin-linux-x64-gnu/bin/jongodb}
MONGOD=${BENCH_SYNC_MONGOD:-}

LOCAL=${BENCH_SYNC_LOCAL:-5000}
CENTRAL=${BENCH_SYNC_CENTRAL:-50000}
CLIENTS=${BENCH_CLIENTS:-64}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-1}
TIMEOUT=${BENCH_SYNC_TIMEOUT:-300}
PULL_TAIL=${BENCH_SYNC_PULL_TAIL:-20}
LIMIT_SECONDS=${BENCH_SYNC_LIMIT_SECONDS:-10}
TARGET=${BENCH_SYNC_TARGET:-120}
BASE_DATE=${BENCH_BASE_DATE:-$(date -u -d '+30 days' +%F)}
DOCTORS=20
SLOTS_A_DAY=$((DOCTORS * 96)) # bench_loadgen's doctors are open 24/7, 15-minute slots

for knob in "BENCH_SYNC_LOCAL=$LOCAL" "BENCH_SYNC_CENTRAL=$CENTRAL" "BENCH_CLIENTS=$CLIENTS" \
    "BENCH_SYNC_TIMEOUT=$TIMEOUT" "BENCH_SYNC_PULL_TAIL=$PULL_TAIL" \
    "BENCH_SYNC_LIMIT_SECONDS=$LIMIT_SECONDS" "BENCH_SYNC_TARGET=$TARGET"; do
    if ! [[ ${knob#*=} =~ ^[1-9][0-9]*$ ]]; then
        echo "bench/sync.sh: ${knob%%=*} must be a positive whole number, not '${knob#*=}'" >&2
        exit 2
    fi
done
for knob in "BENCH_DURATION=$DURATION" "BENCH_WARMUP=$WARMUP"; do
    if ! [[ ${knob#*=} =~ ^[0-9]+(\.[0-9]+)?$ ]]; then
        echo "bench/sync.sh: ${knob%%=*} must be a number of seconds, not '${knob#*=}'" >&2
        exit 2
    fi
done
[ "$CENTRAL" -le 999999 ] || { echo "bench/sync.sh: BENCH_SYNC_CENTRAL is at most 999999" >&2; exit 2; }
date -u -d "$BASE_DATE" +%F >/dev/null 2>&1 ||
    { echo "bench/sync.sh: BENCH_BASE_DATE '$BASE_DATE' is not a date" >&2; exit 2; }
if [ -n "$MONGOD" ]; then
    [[ $MONGOD =~ ^(127\.0\.0\.1|localhost):[0-9]+$ ]] ||
        { echo "bench/sync.sh: BENCH_SYNC_MONGOD must be 127.0.0.1:PORT, not '$MONGOD'" >&2; exit 2; }
elif [ ! -x "$JONGODB" ]; then
    echo "bench/sync.sh: jongodb is not installed at $JONGODB: run npm ci --prefix tests/servers" >&2
    exit 2
fi
"$PY" -c 'import pymongo' 2>/dev/null ||
    { echo "bench/sync.sh: $PY has no pymongo (Debian: python3-pymongo)" >&2; exit 2; }
# Whatever the caller's environment says, a box has a central database only
# where this script gives it one.
unset CLINICBOX_MONGO_URI CLINICBOX_SYNC_INTERVAL_SECONDS CLINICBOX_SYNC_INDEXES

bench_work sync
bench_run_copies
PGID=$(ps -o pgid= $$ | tr -d ' ')


# Database names: a prefix of their own on a shared mongod, dropped at exit.
DBP=""
if [ -n "$MONGOD" ]; then
    DBP="bench_sync_$(od -An -tx1 -N4 /dev/urandom | tr -d ' \n')_"
    # shellcheck disable=SC2317 # called by the EXIT trap
    drop_dbs() {
        "$PY" "$PEERS_PY" dropdbs --uri "mongodb://$MONGOD" --prefix "$DBP" ||
            echo "bench/sync.sh: could not drop the databases $DBP* on $MONGOD" >&2
    }
    trap 'drop_dbs; cleanup' EXIT
fi
wdb() { echo "$DBP$1"; } # wdb WORLD: the world's database (its own name on a shared mongod)

fail() {
    echo "bench/sync.sh: $*" >&2
    exit 1
}
PHASE_FAILED=0
soft_fail() { # a helper broke: go on with the other phases, exit 1 at the end
    echo "bench/sync.sh: $*" >&2
    PHASE_FAILED=1
}
watch_rc() { # watch_rc RC WHAT: 3 is a timeout (a figure, not a failure)
    case $1 in
    0) ;;
    3) echo "  note: $2 did not finish within $TIMEOUT s (BENCH_SYNC_TIMEOUT); figures are of the progress so far" ;;
    *) soft_fail "watching $2 failed" ;;
    esac
}

# result FILE PHASE KEY: the value of KEY on the last "RESULT ... phase=PHASE" line
# (PHASE may also be "key=value" to match another field, e.g. label=push).
result() {
    awk -v sel="$2" -v key="$3" '
        $1 == "RESULT" {
            ok = 0
            for (i = 2; i <= NF; i++) if ($i == "phase=" sel || $i == sel) ok = 1
            if (!ok) next
            for (i = 2; i <= NF; i++) {
                split($i, kv, "=")
                if (kv[1] == key) v = substr($i, length(key) + 2)
            }
        }
        END { if (v == "") v = "nan"; print v }' "$1"
}

cpu_ticks() { # cpu_ticks PID: user+system clock ticks, 0 when gone or none
    [ -n "$1" ] || { echo 0; return 0; }
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
HZ=$(getconf CLK_TCK)
cpusnap() { "$PY" "$OUTBOX_PY" cpusnap "$WORK/cpu.$1.json"; }
cpudiff() { # cpudiff FROM TO LABEL OUTFILE
    "$PY" "$OUTBOX_PY" cpudiff "$WORK/cpu.$1.json" "$WORK/cpu.$2.json" --pgid "$PGID" \
        --label "$3" | tee -a "$4"
}
# ticks_start / ticks_end OUT: the CPU of clinicbox, the central server and
# the proxy between the two calls, appended to OUT
ticks_start() {
    T_S0=$(cpu_ticks "$SERVER_PID")
    T_J0=$(cpu_ticks "$CENTRAL_PID")
    T_X0=$(cpu_ticks "$PROXY_PID")
    T_T0=$(date +%s.%N)
}
ticks_end() {
    awk -v t0="$T_T0" -v t1="$(date +%s.%N)" -v s=$(($(cpu_ticks "$SERVER_PID") - T_S0)) \
        -v j=$(($(cpu_ticks "$CENTRAL_PID") - T_J0)) -v x=$(($(cpu_ticks "$PROXY_PID") - T_X0)) \
        -v hz="$HZ" -v counted="${CENTRAL_PID:+1}" 'BEGIN {
        t = t1 - t0
        if (t <= 0) t = 1e-6
        central = counted ? sprintf("jongodb %.0f%%", j / hz / t * 100) : "the central server not counted"
        printf "  CPU over %.1f s: clinicbox %.0f%% of a core, %s, proxy %.0f%%\n",
               t, s / hz / t * 100, central, x / hz / t * 100
        printf "RESULT phase=procs server_pct=%.0f central_pct=%s proxy_pct=%.0f\n", s / hz / t * 100,
               counted ? sprintf("%.0f", j / hz / t * 100) : "nan", x / hz / t * 100 }' | tee -a "$1"
}
days_after() { date -u -d "$1 + $2 days" +%F; }

# ---- central servers ("worlds") ------------------------------------------
declare -A WPORT WPID
start_world() { # start_world NAME
    local name=$1 port pid
    if [ -n "$MONGOD" ]; then
        WPORT[$name]=${MONGOD##*:}
        WPID[$name]=""
        return 0
    fi
    port=$("$LOADGEN" freeport)
    "$JONGODB" --host=127.0.0.1 --port="$port" >"$WORK/jongodb.$name.out" 2>&1 &
    pid=$!
    PIDS+=("$pid")
    WPORT[$name]=$port
    WPID[$name]=$pid
    for _ in $(seq 1 300); do
        if grep -q '^JONGODB_URI=' "$WORK/jongodb.$name.out" 2>/dev/null &&
            (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
            return 0
        fi
        kill -0 "$pid" 2>/dev/null || break
        sleep 0.1
    done
    cat "$WORK/jongodb.$name.out" >&2 || true
    fail "jongodb ($name) did not start"
}
stop_world() { # stop_world NAME: a jongodb is stopped (with whatever it was still doing)
    if [ -n "${WPID[$1]}" ]; then
        stop_pid "${WPID[$1]}"
        WPID[$1]=""
    fi
}
muri() { echo "mongodb://127.0.0.1:${WPORT[$1]}"; }
box_uri() { # box_uri PORT DB: what a box is given
    echo "mongodb://127.0.0.1:$1/$2?serverSelectionTimeoutMS=2000&connectTimeoutMS=2000"
}

# ---- the proxy -----------------------------------------------------------
PROXY_PORT=$("$LOADGEN" freeport)
PROXY_PID=""
start_proxy() { # start_proxy WORLD [--cut]
    rm -f "$WORK/proxy.state"
    "$PY" "$PEERS_PY" proxy --port "$PROXY_PORT" --to-port "${WPORT[$1]}" \
        --state-file "$WORK/proxy.state" "${@:2}" >>"$WORK/proxy.out" 2>&1 &
    PROXY_PID=$!
    PIDS+=("$PROXY_PID")
    if [ "${2:-}" = --cut ]; then proxy_wait cut; else proxy_wait up; fi
}
stop_proxy() {
    if [ -n "$PROXY_PID" ]; then
        stop_pid "$PROXY_PID"
        PROXY_PID=""
    fi
}
proxy_wait() {
    for _ in $(seq 1 100); do
        [ "$(cat "$WORK/proxy.state" 2>/dev/null)" = "$1" ] && return 0
        kill -0 "$PROXY_PID" 2>/dev/null || break
        sleep 0.05
    done
    cat "$WORK/proxy.out" >&2 || true
    fail "the proxy did not become '$1'"
}
proxy_set() { # proxy_set up|cut
    if [ "$1" = cut ]; then kill -USR1 "$PROXY_PID"; else kill -USR2 "$PROXY_PID"; fi
    proxy_wait "$1"
}

# ---- the box ---------------------------------------------------------------
SERVER_PID=""
CENTRAL_PID=""
# start_server DATA [MONGO_URI]: sets SERVER_PID, PORT and SERVER_DATA, and
# the API token when DATA is a copy that has one.
start_server() {
    local data=$1 uri=${2:-}
    SERVER_DATA=$data
    bench_token "$data" --load
    # All clients come from 127.0.0.1: no per-address connection cap.
    local env=(env "CLINICBOX_SYNC_INTERVAL_SECONDS=1" "CLINICBOX_HTTP_MAX_CONNECTIONS_PER_ADDRESS=0")
    # jongodb checks every index of a collection on every write (an insert
    # into `changes` of 20,000 entries: 0.4 s without the {clinicId, seq}
    # index, 5.7 s with it, 9.6 s unique; docs/benchmark.md): against it
    # the box makes none (BENCH_SYNC_INDEXES=on to measure that anyway).
    # A real mongod gets them, as a clinic's central database does.
    if [ -z "${BENCH_SYNC_MONGOD:-}" ] && [ "${BENCH_SYNC_INDEXES:-off}" != on ]; then
        env+=("CLINICBOX_SYNC_INDEXES=off")
    fi
    if [ -n "$uri" ]; then
        env+=("CLINICBOX_MONGO_URI=$uri")
    fi
    PORT=$("$LOADGEN" freeport)
    "${env[@]}" "$CLINICBOX" serve --data "$data" --listen "127.0.0.1:$PORT" --set tls=off \
        >>"$WORK/clinicbox.stdout" 2>>"$WORK/clinicbox.log" &
    SERVER_PID=$!
    PIDS+=("$SERVER_PID")
}
# wait_server: until the server answers; then its data dir's API token,
# made now if it has none (every request authenticates with it).
wait_server() {
    if ! "$LOADGEN" wait --target "127.0.0.1:$PORT" --path /api/health --timeout 30 \
        --pid "$SERVER_PID"; then
        tail -n 20 "$WORK/clinicbox.log" >&2 || true
        fail "clinicbox did not become ready"
    fi
    bench_token "$SERVER_DATA" || fail "could not make an API token"
}
stop_server() { # stop_server WHAT: TERM, and how long the box took to stop
    local t0 secs
    t0=$(date +%s.%N)
    stop_pid "$SERVER_PID"
    secs=$(awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN {printf "%.1f", b - a}')
    if awk -v s="$secs" 'BEGIN {exit !(s > 2)}'; then
        echo "  note: clinicbox took $secs s to stop after $1"
    fi
}
# status DATA LABEL [--until synced|failing --timeout T]: one RESULT phase=status line
status() {
    "$PY" "$PEERS_PY" status --target "127.0.0.1:$PORT" --data "$1" --pid "$SERVER_PID" \
        --label "$2" "${@:3}"
}
# sync_watch DATA LABEL OUT [watch options]: sync_peers.py watch, appended to OUT
sync_watch() {
    "$PY" "$PEERS_PY" watch --target "127.0.0.1:$PORT" --data "$1" --pid "$SERVER_PID" \
        --label "$2" --timeout "$TIMEOUT" --log "$WORK/$2.watch.log" "${@:4}" | tee -a "$3"
}
# book OUT IDS DATE DURATION WARMUP [FILL_TO]: bench_loadgen's book scenario.
book() {
    local out=$1 ids=$2 date=$3 dur=$4 warm=$5 fill=${6:-0}
    "$LOADGEN" run --target "127.0.0.1:$PORT" -H "$AUTH_HEADER" --clients "$CLIENTS" \
        --duration "$dur" --warmup "$warm" --scenario book --ids "$ids" --base-date "$date" \
        --slot-minutes 15 --fill-to "$fill" --fill-timeout 120 | tee "$out"
}

START=$(date +%s)
echo "== clinicbox sync benchmark =="
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "work dir: $WORK (filesystem: $(df -P "$WORK" | awk 'NR==2 {print $1}'))"
echo "clinicbox: $CLINICBOX_BUILT, sha256" \
     "$(sha256sum "$CLINICBOX" | cut -c1-12) (a copy in the work dir is what runs)"
if [ -n "$MONGOD" ]; then
    echo "central: mongod at $MONGOD, databases ${DBP}*"
else
    echo "central: jongodb $(awk -F'"' '$2 == "version" {print $4; exit}' \
        "$(dirname "$JONGODB")/../package.json" 2>/dev/null), an instance per group of phases"
fi
echo "local changes: $LOCAL bookings; central changes: $CENTRAL; bookings from $BASE_DATE;" \
     "waits at most $TIMEOUT s"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
echo

# ------------------------------------------------------------------ 0. prep
echo "-- 0. prep: setup and $LOCAL bookings on a box with no mongo_uri"
mkdir -p "$WORK/prep"
start_server "$WORK/prep"
wait_server
"$LOADGEN" setup -H "$AUTH_HEADER" --target "127.0.0.1:$PORT" --out "$WORK/ids.txt" --doctors "$DOCTORS" \
    --patients "$CLIENTS" --slot-minutes 15 || fail "setup failed"
book "$WORK/prep.book" "$WORK/ids.txt" "$BASE_DATE" 0.1 0 "$LOCAL" >/dev/null || fail "prep bookings failed"
stop_server "the prep"
PREP_CREATED=$(result "$WORK/prep.book" fill created_total)
[ "$PREP_CREATED" != nan ] || fail "prep bookings: no count"
"$CLINICBOX" sync --dump --data "$WORK/prep" >"$WORK/prep.dump" 2>>"$WORK/clinicbox.log" ||
    fail "clinicbox sync --dump failed"
echo "prep: $PREP_CREATED bookings; $(wc -l <"$WORK/prep.dump") records to sync" \
     "($(cut -d'"' -f4 "$WORK/prep.dump" | sort | uniq -c | awk '{printf "%s%s %s", s, $1, $2; s=", "}'));" \
     "$(du -sk "$WORK/prep" | awk '{print $1}') kB data dir"
echo

# ------------------------------------------------------------------ 1. push
echo "-- 1. push: the prep box's first contact with an empty database"
start_world push
CENTRAL_PID=${WPID[push]}
echo "-- 1s. the limit first, on the idle server: pymongo alone pushes the same records"
"$PY" "$PEERS_PY" push-limit --uri "$(muri push)" --prefix "$DBP" --dump "$WORK/prep.dump" \
    --seconds "$LIMIT_SECONDS" | tee "$WORK/p1s.out" || soft_fail "the push limit failed"
cp -a "$WORK/prep" "$WORK/d1"
cpusnap p1.a
SERVER_PID=""
ticks_start
start_server "$WORK/d1" "$(box_uri "${WPORT[push]}" "$(wdb push)")"
rc=0
sync_watch "$WORK/d1" push "$WORK/p1.out" || rc=$?
watch_rc "$rc" "the push"
cpusnap p1.b
ticks_end "$WORK/p1.out"
cpudiff p1.a p1.b cpu-push "$WORK/p1.out" >/dev/null
stop_server "the push"
stop_world push
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK/d1"
awk -v t="$(result "$WORK/p1.out" label=push t_done)" -v tl="$(result "$WORK/p1.out" label=push t_last)" \
    -v n="$(result "$WORK/p1.out" label=push pushed)" -v c="$(result "$WORK/p1.out" label=push rows_cleared)" \
    -v left="$(result "$WORK/p1.out" label=push pending_last)" '
    BEGIN { if (t != "nan") printf "  => %d records pushed in %.2f s from the launch: %.0f records/s\n", n, t, n / t
            else if (tl + 0 > 0) printf "  => not done: %d journal rows cleared in %.1f s (%.0f/s), %d left\n", c, tl, c / tl, left }'
echo

# ---------------------------------------------------------- 2. offline prep
echo "-- 2. offline prep: a box seeds its database through the proxy, is cut off and books" \
     "$LOCAL times; $CENTRAL central changes are written meanwhile"
start_world catchup
start_world load
start_world pull
CENTRAL_PID=${WPID[catchup]}
start_proxy catchup
C_URI=$(box_uri "$PROXY_PORT" "$(wdb catchup)")
mkdir -p "$WORK/off"
start_server "$WORK/off" "$C_URI"
wait_server
"$LOADGEN" setup -H "$AUTH_HEADER" --target "127.0.0.1:$PORT" --out "$WORK/ids.c.txt" --doctors "$DOCTORS" \
    --patients "$CLIENTS" --slot-minutes 15 >/dev/null || fail "setup failed"
status "$WORK/off" seeded --until synced --timeout 60 >"$WORK/p2.seed" || fail "the box did not seed its database"
stop_server "seeding"
cp -a "$WORK/off" "$WORK/seeded"
echo "  seeded: the box pushed $(result "$WORK/p2.seed" label=seeded pushed) records"
proxy_set cut
start_server "$WORK/off" "$C_URI"
wait_server
book "$WORK/off.book" "$WORK/ids.c.txt" "$BASE_DATE" 0.1 0 "$LOCAL" >/dev/null || fail "offline bookings failed"
status "$WORK/off" offline --until failing --timeout 30 >"$WORK/p2.offline" ||
    fail "the box did not notice it was cut off"
stop_server "the offline bookings"
OFF_CREATED=$(result "$WORK/off.book" fill created_total)
OFF_PENDING=$(result "$WORK/p2.offline" label=offline pending)
echo "  offline: $OFF_CREATED bookings -> $OFF_PENDING journal rows waiting" \
     "(failed rounds meanwhile: $(result "$WORK/p2.offline" label=offline rounds_failed))"
CBASE=$(days_after "$BASE_DATE" $((OFF_CREATED / SLOTS_A_DAY + 2)))
BASE_DATE_5=$(days_after "$CBASE" $(((CENTRAL / 2) / SLOTS_A_DAY + 2)))
"$PY" "$PEERS_PY" write --uri "$(muri catchup)" --db "$(wdb catchup)" --ids "$WORK/ids.c.txt" \
    --count "$CENTRAL" --base-date "$CBASE" | tee "$WORK/p2.write" || fail "the central writes failed"
LAST=$(result "$WORK/p2.write" write last_seq)
for w in load pull; do
    "$PY" "$PEERS_PY" copydb --uri "$(muri catchup)" --src "$(wdb catchup)" --dst-uri "$(muri "$w")" \
        --dst "$(wdb "$w")" >>"$WORK/p2.copy" || fail "could not copy the central database"
done
echo "  the central database ($(result "$WORK/p2.copy" copydb documents) documents) is copied to" \
     "the worlds 'load' and 'pull'"
echo

# ------------------------------------------------------------------ 3. pull
echo "-- 3. pull: the seeded box (no local changes) meets $CENTRAL central changes"
CENTRAL_PID=${WPID[pull]}
echo "-- 3s. the limit first, on the idle server: pymongo alone makes the pull's reads"
"$PY" "$PEERS_PY" pull-limit --uri "$(muri pull)" --db "$(wdb pull)" | tee "$WORK/p3s.out" ||
    soft_fail "the pull limit failed"
cp -a "$WORK/seeded" "$WORK/d3"
cpusnap p3.a
SERVER_PID=""
ticks_start
start_server "$WORK/d3" "$(box_uri "${WPORT[pull]}" "$(wdb pull)")"
rc=0
sync_watch "$WORK/d3" pull "$WORK/p3.out" --seq "$LAST" --after-pulled "$PULL_TAIL" || rc=$?
watch_rc "$rc" "the pull"
cpusnap p3.b
ticks_end "$WORK/p3.out"
cpudiff p3.a p3.b cpu-pull "$WORK/p3.out" >/dev/null
stop_server "the pull"
stop_world pull
echo "  data dir after: $(du -sk "$WORK/d3" | awk '{print $1}') kB"
[ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK/d3"
awk -v n="$CENTRAL" -v tp="$(result "$WORK/p3.out" label=pull t_pulled)" \
    -v td="$(result "$WORK/p3.out" label=pull t_done)" -v tl="$(result "$WORK/p3.out" label=pull t_last)" \
    -v taken="$(result "$WORK/p3.out" label=pull taken)" \
    -v c="$(result "$WORK/p3.out" label=pull rows_cleared_after_pulled)" \
    -v rows="$(result "$WORK/p3.out" label=pull rows_at_pulled)" '
    BEGIN { if (tp != "nan") printf "  => %d central changes taken in %.2f s from the launch: %.0f changes/s\n", n, tp, n / tp
            else if (tl + 0 > 0) printf "  => not done: %d changes taken in %.1f s (%.0f/s)\n", taken, tl, taken / tl
            if (tp != "nan" && td != "nan" && td > tp)
                printf "     then the %d rows that made were pushed in %.2f s (%.0f/s)\n", rows, td - tp, c / (td - tp)
            else if (tp != "nan" && tl > tp)
                printf "     then %d of the %d rows that made were pushed in %.1f s (%.0f/s) before the watch stopped\n", c, rows, tl - tp, c / (tl - tp) }'
echo

# ------------------------------------------------------------- 4. catch-up
echo "-- 4. catch-up: the offline box starts cut off; then the link comes back"
CENTRAL_PID=${WPID[catchup]}
cp -a "$WORK/off" "$WORK/c4"
start_server "$WORK/c4" "$C_URI"
wait_server
status "$WORK/c4" before --until failing --timeout 30 >"$WORK/p4.before" ||
    fail "the box did not fail a round while cut off"
echo "  the box is up and cut off (rounds failed: $(result "$WORK/p4.before" label=before rounds_failed));" \
     "the link comes back now"
cpusnap p4.a
ticks_start
proxy_set up
rc=0
sync_watch "$WORK/c4" catchup "$WORK/p4.out" --seq "$LAST" --kick || rc=$?
watch_rc "$rc" "the catch-up"
cpusnap p4.b
ticks_end "$WORK/p4.out"
cpudiff p4.a p4.b cpu-catchup "$WORK/p4.out" >/dev/null
stop_server "the catch-up"
CAUGHT_UP=$(result "$WORK/p4.out" label=catchup ok)
awk -v t="$(result "$WORK/p4.out" label=catchup t_done)" -v target="$TARGET" '
    BEGIN { if (t != "nan") printf "  => caught up in %.1f s after the link came back (target < %d s)\n", t, target }'
if [ "$CAUGHT_UP" = 1 ]; then
    echo "-- 4c. both sides after the catch-up (clinicbox sync --dump against the central documents)"
    if "$CLINICBOX" sync --dump --data "$WORK/c4" >"$WORK/c4.dump" 2>>"$WORK/clinicbox.log"; then
        "$PY" "$PEERS_PY" check --uri "$(muri catchup)" --db "$(wdb catchup)" --dump "$WORK/c4.dump" |
            tee -a "$WORK/p4.out" || soft_fail "the comparison of both sides failed"
    else
        soft_fail "clinicbox sync --dump failed"
    fi
else
    echo "  (both sides are not compared: the catch-up did not finish; its server is stopped)"
    stop_world catchup
fi
echo

# ------------------------------------------------------------- 5. bookings
declare -A BOOK_LABEL=(
    [base1]="5a. no mongo_uri (the baseline)"
    [catchup]="5b. catching up: the link comes back; the clients start when the first central change is in"
    [steady]="5c. sync on, caught up, link up (the box of phase 4)"
    [base2]="5d. no mongo_uri (the baseline again)"
)
stop_proxy
for run in base1 catchup steady base2; do
    echo "-- ${BOOK_LABEL[$run]}"
    if [ "$run" = steady ] && [ "$CAUGHT_UP" != 1 ]; then
        echo "   skipped: phase 4 did not catch up"
        echo
        continue
    fi
    echo "   $CLIENTS clients, ${WARMUP} s warm-up + ${DURATION} s measured, bookings from $BASE_DATE_5"
    DATA="$WORK/b.$run"
    CENTRAL_PID=""
    case $run in
    base1 | base2)
        cp -a "$WORK/off" "$DATA"
        start_server "$DATA" ;;
    catchup)
        cp -a "$WORK/off" "$DATA"
        CENTRAL_PID=${WPID[load]}
        start_proxy load --cut
        start_server "$DATA" "$(box_uri "$PROXY_PORT" "$(wdb load)")"
        wait_server
        status "$DATA" before --until failing --timeout 30 >/dev/null ||
            fail "the box did not fail a round while cut off" ;;
    steady)
        DATA="$WORK/c4"
        CENTRAL_PID=${WPID[catchup]}
        start_proxy catchup
        start_server "$DATA" "$C_URI"
        wait_server
        status "$DATA" before --until synced --timeout 60 >/dev/null ||
            fail "the caught-up box did not complete a round" ;;
    esac
    wait_server
    WATCH_PID=""
    if [ "$run" = catchup ]; then
        # The load starts once the box has taken in its first central change:
        # for about 5 s after the heal its rounds still fail (libmongoc waits
        # that long before it tries a server that failed again).
        T_HEAL=$(date +%s.%N)
        proxy_set up
        "$PY" "$PEERS_PY" watch --target "127.0.0.1:$PORT" --data "$DATA" --pid "$SERVER_PID" \
            --label catchup_load --timeout "$TIMEOUT" --log "$WORK/catchup_load.watch.log" \
            --seq "$LAST" --kick >"$WORK/b.$run.watch" 2>&1 &
        WATCH_PID=$!
        PIDS+=("$WATCH_PID")
        status "$DATA" pulling --until pulling --timeout 60 >"$WORK/b.$run.pulling" ||
            fail "the box took in no central change within 60 s of the heal"
        awk -v a="$T_HEAL" -v b="$(date +%s.%N)" 'BEGIN {
            printf "   the box took in its first central change %.1f s after the heal;" \
                   " the load starts now\n", b - a }'
    fi
    cpusnap "b.$run.a"
    ticks_start
    book "$WORK/b.$run.out" "$WORK/ids.c.txt" "$BASE_DATE_5" "$DURATION" "$WARMUP" ||
        echo "bench/sync.sh: no successful booking in $run" >&2
    cpusnap "b.$run.b"
    ticks_end "$WORK/b.$run.out"
    cpudiff "b.$run.a" "b.$run.b" "cpu-book.$run" "$WORK/b.$run.out"
    kill -0 "$SERVER_PID" 2>/dev/null || fail "clinicbox exited during $run"
    if [ "$run" = catchup ] || [ "$run" = steady ]; then
        status "$DATA" window-end >>"$WORK/b.$run.out" || true
        awk -v last="$LAST" -v run="$run" '$1 == "RESULT" && $2 == "phase=status" {
            for (i = 3; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
            if (run == "catchup") printf "  at the end of the window: central changes taken in up to %s of %d;", v["checkpoint"], last
            else printf "  at the end of the window:"
            printf " %s journal rows waiting to be pushed; rounds completed %s\n", v["pending"], v["rounds_ok"] }' \
            "$WORK/b.$run.out"
    fi
    if [ -n "$WATCH_PID" ]; then
        rc=0
        wait "$WATCH_PID" || rc=$?
        grep -v '^RESULT' "$WORK/b.$run.watch" || true
        grep '^RESULT' "$WORK/b.$run.watch" >>"$WORK/b.$run.out" || true
        watch_rc "$rc" "the catch-up under load"
        awk -v t="$(result "$WORK/b.$run.out" label=catchup_load t_done)" \
            -v tp="$(result "$WORK/b.$run.out" label=catchup_load t_pulled)" '
            BEGIN { if (t != "nan") printf "  => the catch-up under load: all central changes in" \
                    " after %.1f s, nothing left to push after %.1f s (the window'"'"'s bookings" \
                    " included)\n", tp, t }'
    fi
    stop_server "$run"
    case $run in
    catchup) stop_proxy; stop_world load ;;
    steady) stop_proxy; stop_world catchup ;;
    esac
    [ "${BENCH_KEEP:-0}" = 1 ] || [ "$run" = steady ] || rm -rf "$DATA"
    echo
done
for w in push catchup load pull; do stop_world "$w"; done

# ------------------------------------------------------------------ summary
ELAPSED=$(($(date +%s) - START))
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
{
    p=$WORK/p1.out; s=$WORK/p1s.out
    echo "P1 $(result "$p" label=push pushed) $(result "$p" label=push t_done)" \
         "$(result "$p" label=push t_last) $(result "$p" label=push rows_cleared)" \
         "$(result "$p" label=push pending_first) $(result "$p" label=push hwm_kb)" \
         "$(result "$s" pushlimit upsert_rate) $(result "$s" pushlimit upserted)" \
         "$(result "$s" pushlimit records) $(result "$s" pushlimit insert_rate)" \
         "$(result "$s" pushlimit at_size) $(result "$s" pushlimit at_size_ms)" \
         "$(result "$p" procs server_pct) $(result "$p" procs central_pct)" \
         "$(result "$p" cpu others_pct)"
    p=$WORK/p3.out
    echo "P3 $CENTRAL $(result "$p" label=pull t_pulled) $(result "$p" label=pull t_last)" \
         "$(result "$p" label=pull taken) $(result "$p" label=pull t_done)" \
         "$(result "$p" label=pull rows_at_pulled) $(result "$p" label=pull rows_cleared_after_pulled)" \
         "$(result "$p" label=pull hwm_kb) $(result "$WORK/p3s.out" pulllimit rate)" \
         "$(result "$WORK/p2.write" write rate) $(result "$p" procs server_pct)" \
         "$(result "$p" procs central_pct) $(result "$p" cpu others_pct)" \
         "$(result "$p" label=pull conflicts) $(result "$p" label=pull rejected)"
    p=$WORK/p4.out
    echo "P4 $OFF_CREATED $OFF_PENDING $CENTRAL $(result "$p" label=catchup t_first_pull)" \
         "$(result "$p" label=catchup t_pulled) $(result "$p" label=catchup t_done)" \
         "$(result "$p" label=catchup t_last) $(result "$p" label=catchup taken)" \
         "$(result "$p" label=catchup rows_added) $(result "$p" label=catchup rows_cleared)" \
         "$(result "$p" label=catchup pending_last) $(result "$p" label=catchup hwm_kb)" \
         "$(result "$p" label=catchup conflicts) $(result "$p" label=catchup rejected)" \
         "$(result "$p" check agree) $(result "$p" procs server_pct)" \
         "$(result "$p" procs central_pct) $(result "$p" procs proxy_pct)" \
         "$(result "$p" cpu others_pct)"
    for run in base1 catchup steady base2; do
        b=$WORK/b.$run.out
        [ -f "$b" ] || { echo "B $run"; continue; }
        echo "B $run $(result "$b" measured ok_rps) $(result "$b" measured p50_ms)" \
             "$(result "$b" measured p99_ms) $(result "$b" measured other)" \
             "$(result "$b" measured errors) $(result "$b" cpu others_pct)" \
             "$(result "$b" label=window-end checkpoint) $(result "$b" label=window-end pending)" \
             "$(result "$b" procs server_pct) $(result "$b" procs central_pct)" \
             "$(result "$b" procs proxy_pct) $(result "$b" label=catchup_load t_pulled)" \
             "$(result "$b" label=catchup_load t_done) $(result "$b" label=catchup_load t_last)" \
             "$(result "$b" label=catchup_load taken) $(result "$b" label=catchup_load pending_last)"
    done
} >"$WORK/summary.in"
awk -v elapsed="$ELAPSED" -v secs="$DURATION" -v warm="$WARMUP" -v clients="$CLIENTS" \
    -v target="$TARGET" -v last="$LAST" -v central="${MONGOD:+mongod}" '
function na(x) { return x == "nan" || x == "" }
function f1(x) { return na(x) ? "n/a" : sprintf("%.1f", x) }
function f0(x) { return na(x) ? "n/a" : sprintf("%.0f", x) }
function mib(x) { return na(x) ? "n/a" : sprintf("%.1f MiB", x / 1024) }
function rate(n, t) { return (na(t) || t + 0 <= 0) ? "n/a" : sprintf("%.0f", n / t) }
function row(a, b, c) { printf "%-58s %-42s %s\n", a, b, c }
$1 == "P1" { split($0, p1, " ") }
$1 == "P3" { split($0, p3, " ") }
$1 == "P4" { split($0, p4, " ") }
$1 == "B" { b[$2] = $0 }
END {
    if (central == "") central = "jongodb"
    printf "== summary: sync against %s, run took %d s ==\n", central, elapsed
    row("figure", "measured", "limit / comparison (same run)")
    # 1. push
    if (!na(p1[3])) m = sprintf("%s/s (%s in %s s)", rate(p1[2], p1[3]), p1[2], f1(p1[3]))
    else m = sprintf("NOT DONE: %s/s (%s of %s in %s s)", rate(p1[5], p1[4]), p1[5], p1[6], f1(p1[4]))
    row("1. records pushed/s, first contact", m,
        sprintf("pymongo alone: guarded upserts %s/s (%s of %s), insert_many %s/s", f0(p1[8]), p1[9], p1[10], f0(p1[11])))
    row("   an upsert into a collection of N documents (the server)", sprintf("N = %s: %s ms", p1[12], f1(p1[13])),
        sprintf("clinicbox %s%% of a core, %s %s%%; others %s%%", f0(p1[14]), central, f0(p1[15]), f0(p1[16])))
    row("   peak RSS (VmHWM) of that process", mib(p1[7]), "")
    # 3. pull
    if (!na(p3[3])) m = sprintf("%s/s (%s in %s s)", rate(p3[2], p3[3]), p3[2], f1(p3[3]))
    else m = sprintf("NOT DONE: %s/s (%s in %s s)", rate(p3[5], p3[4]), p3[5], f1(p3[4]))
    row(sprintf("3. central changes taken in/s (%s changes)", p3[2]), m,
        sprintf("pymongo alone, the pull'"'"'s reads: %s changes/s", f0(p3[10])))
    if (!na(p3[3]) && !na(p3[6])) m = sprintf("%s/s (%s in %s s)", rate(p3[7], p3[6] - p3[3]), p3[7], f1(p3[6] - p3[3]))
    else if (!na(p3[3])) m = sprintf("NOT DONE: %s/s (%s of %s in %s s)", rate(p3[8], p3[4] - p3[3]), p3[8], p3[7], f1(p3[4] - p3[3]))
    else m = "n/a"
    row("   then pushing the rows taking them in made", m,
        sprintf("central writes by pymongo (documented shape): %s changes/s", f0(p3[11])))
    row("   peak RSS (VmHWM) of that process", mib(p3[9]),
        sprintf("clinicbox %s%% of a core, %s %s%%; others %s%%; conflicts %s, refused %s",
                f0(p3[12]), central, f0(p3[13]), f0(p3[14]), p3[15], p3[16]))
    # 4. catch-up
    t = p4[7]
    if (!na(t)) { m = sprintf("%s s", f1(t)); v = (t + 0 < target) ? "PASS" : "MISS" }
    else { m = sprintf("NOT DONE in %s s", f0(p4[8])); v = "MISS" }
    row(sprintf("4. catch-up: %s bookings offline (%s rows), %s central", p4[2], p4[3], p4[4]), m,
        sprintf("target < %d s: %s", target, v))
    row("   first / last central change in after", sprintf("%s / %s s", f1(p4[5]), f1(p4[6])),
        sprintf("%s of %s changes in; journal rows: %s added, %s cleared, %s left", p4[9], last, p4[10], p4[11], p4[12]))
    row("   peak RSS (VmHWM) of that process", mib(p4[13]),
        sprintf("clinicbox %s%% of a core, %s %s%%, proxy %s%%; others %s%%",
                f0(p4[17]), central, f0(p4[18]), f0(p4[19]), f0(p4[20])))
    row("   both sides afterwards (sync --dump vs central)",
        (p4[16] == "1") ? "agree" : (p4[16] == "0" ? "DISAGREE" : "not compared"),
        sprintf("conflicts %s, refused %s", p4[14], p4[15]))
    # 5. bookings
    split(b["base1"], q, " "); split(b["base2"], r, " ")
    base = (q[3] + r[3]) / 2
    lbl["base1"] = "5. bookings/s, no mongo_uri (before)"
    lbl["catchup"] = "5. bookings/s while catching up"
    lbl["steady"] = "5. bookings/s, sync on, caught up"
    lbl["base2"] = "5. bookings/s, no mongo_uri (after)"
    split("base1 catchup steady base2", order, " ")
    for (k = 1; k <= 4; k++) {
        split(b[order[k]], z, " ")
        if (na(z[3])) { row(lbl[order[k]], "n/a", "not run"); continue }
        cmp = "baseline"
        if (order[k] == "catchup" || order[k] == "steady")
            cmp = sprintf("%.0f%% of the baseline mean %.0f/s", (base > 0 ? z[3] / base * 100 : 0), base)
        row(lbl[order[k]], sprintf("%s (p50 %s, p99 %s ms)", f0(z[3]), f1(z[4]), f1(z[5])),
            sprintf("%s; non-201 %s, errors %s; others %s%%", cmp, z[6], z[7], f0(z[8])))
        if (order[k] == "catchup") {
            row("   catch-up at the end of the window", sprintf("%s of %d changes in", z[9], last),
                sprintf("%s rows to push; clinicbox %s%%, %s %s%%, proxy %s%%", z[10], f0(z[11]), central, f0(z[12]), f0(z[13])))
            if (!na(z[15])) m = sprintf("all in after %s s, pushed after %s s", f1(z[14]), f1(z[15]))
            else m = sprintf("NOT DONE in %s s (%s changes in, %s rows left)", f0(z[16]), z[17], z[18])
            row("   the whole catch-up under load", m, "")
        }
        if (order[k] == "steady")
            row("   journal at the end of the window", sprintf("%s rows", z[10]),
                sprintf("clinicbox %s%%, %s %s%%, proxy %s%%", f0(z[11]), central, f0(z[12]), f0(z[13])))
    }
    printf "limits: pymongo, the central server, the proxy and the load generator share the two cores\n"
    printf "  with the box; bookings: %d clients, %s s warm-up + %s s measured.\n", clients, warm, secs
}' "$WORK/summary.in"
exit "$PHASE_FAILED"
