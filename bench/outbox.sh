#!/usr/bin/env bash
# bench/outbox.sh BUILD_DIR — the outbox benchmark: how fast the sender
# threads hand messages to a local SMTP server and to the Twilio stand-in,
# how long 10,000 queued messages take to drain after an outage, and whether
# sending slows booking down. The limits (each sink's own acceptance rate)
# are measured in the same run. See docs/benchmark.md ("Outbox benchmark").
#
# BUILD_DIR holds clinicbox and bench_loadgen (also looked for in
# BUILD_DIR/bench). The peers and the health watcher are bench/outbox_peers.py,
# run with Debian's /usr/bin/python3 (the "test" peers need python3-aiosmtpd).
# All traffic is on 127.0.0.1, ports are chosen at run time, every wait is
# bounded.
# Every request to clinicbox sends its data dir's admin API token (made
# with `clinicbox token create` once the server is up; bench/lib.sh).
#
# Phases:
#   0. prep: clinicbox with no channel configured (no sender threads); setup
#      (20 doctors, BENCH_CLIENTS patients, each with email and phone);
#      BENCH_OUTBOX_BOOKINGS bookings -> 2 x that many messages queued (a
#      confirmation email and SMS each). The data dir is copied for 1 and 3.
#   1. drain with the peers up, per peer implementation (BENCH_OUTBOX_PEERS):
#      start both peers, then clinicbox with both channels configured on a
#      copy; poll /api/health until every message is sent: rate = messages
#      of the channel / seconds from the server's launch. Then each sink's
#      own limit ("1s"): one sequential raw-socket client per sink, alone,
#      for the fast peers and (when aiosmtpd is there) the test suite's.
#   2. outage: fresh data dir, clinicbox configured but both peers down
#      (ports closed), CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS=1; setup and
#      BENCH_OUTBOX_BOOKINGS bookings; the outage is held BENCH_OUTBOX_OUTAGE
#      seconds (failed attempts and CPU are counted); then the peers start and
#      the drain is timed until queued+sending+failed == 0.
#   3. booking rate (bench_loadgen, BENCH_CLIENTS clients, BENCH_DURATION s
#      measured after BENCH_WARMUP s), each on its own copy of the prep data
#      dir (its 2 x BENCH_OUTBOX_BOOKINGS messages still queued):
#      a) no channel configured: nothing is sent (the baseline);
#      b) both channels configured, peers up: the senders drain while the
#         clients book;
#      c) both configured, peers down, default back-off (900 s);
#      d) no channel configured and the clinic's `confirmations` off: a
#         booking queues nothing (what queueing itself costs);
#      e) the baseline again (a and e bracket the others).
#   4. summary.
#
# Knobs (environment): BENCH_OUTBOX_BOOKINGS (5000), BENCH_CLIENTS (64),
# BENCH_DURATION (10), BENCH_WARMUP (1), BENCH_OUTBOX_PEERS ("fast"; "fast
# test" also drains phase 1 through the test suite's aiosmtpd/http.server
# peers, which takes minutes, see docs/benchmark.md; phases 2 and 3 use the
# first), BENCH_OUTBOX_OUTAGE (5 s), BENCH_OUTBOX_SINK_SECONDS (3),
# BENCH_OUTBOX_DRAIN_TIMEOUT (300 s), BENCH_PYTHON (/usr/bin/python3),
# BENCH_BASE_DATE (UTC date 30 days ahead), BENCH_TMPDIR (BUILD_DIR),
# BENCH_KEEP=1 keeps the work dir. clinicbox and bench_loadgen are copied
# into the work dir first, so a rebuild during the run cannot mix binaries.
# Exit status: 0 when every phase ran (a figure may still be bad), 1 when a
# phase failed, 2 on bad usage.
set -euo pipefail

# shellcheck source=bench/lib.sh
. "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_args "$@"
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)

CLINICBOX=$(find_bin clinicbox)
LOADGEN=$(find_bin bench_loadgen)
PY=${BENCH_PYTHON:-/usr/bin/python3}
PEERS_PY="$HERE/outbox_peers.py"

BOOKINGS=${BENCH_OUTBOX_BOOKINGS:-5000}
CLIENTS=${BENCH_CLIENTS:-64}
DURATION=${BENCH_DURATION:-10}
WARMUP=${BENCH_WARMUP:-1}
IMPLS=${BENCH_OUTBOX_PEERS:-fast}
OUTAGE=${BENCH_OUTBOX_OUTAGE:-5}
SINK_SECONDS=${BENCH_OUTBOX_SINK_SECONDS:-3}
DRAIN_TIMEOUT=${BENCH_OUTBOX_DRAIN_TIMEOUT:-300}
BASE_DATE=${BENCH_BASE_DATE:-$(date -u -d '+30 days' +%F)}
# Phase 3 books after the prep bookings (20 doctors x 96 slots a day).
BASE_DATE_3=$(date -u -d "$BASE_DATE + $((BOOKINGS / 1920 + 2)) days" +%F)
DOCTORS=20
FIRST_IMPL=${IMPLS%% *}
# The sinks' own limits are measured for both kinds of peers when aiosmtpd is
# there (a few seconds), whichever drain the worker.
SINK_IMPLS=$IMPLS
if ! [[ " $IMPLS " == *" test "* ]] && "$PY" -c 'import aiosmtpd' 2>/dev/null; then
    SINK_IMPLS="$IMPLS test"
fi

for impl in $IMPLS; do
    case $impl in
    fast) ;;
    test) "$PY" -c 'import aiosmtpd' 2>/dev/null ||
        { echo "bench/outbox.sh: $PY has no aiosmtpd (needed by the test peers)" >&2; exit 2; } ;;
    *) echo "bench/outbox.sh: BENCH_OUTBOX_PEERS: unknown peers '$impl' (fast, test)" >&2; exit 2 ;;
    esac
done

bench_work outbox
bench_run_copies
PGID=$(ps -o pgid= $$ | tr -d ' ')


fail() {
    echo "bench/outbox.sh: $*" >&2
    exit 1
}

# result FILE PHASE KEY: the value of KEY on the last "RESULT ... phase=PHASE" line
# (PHASE may also be "key=value" to match another field, e.g. peer=smtp).
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

cpu_ticks() { # cpu_ticks PID: user+system clock ticks, 0 when gone
    awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0
}
HZ=$(getconf CLK_TCK)

cpusnap() { "$PY" "$PEERS_PY" cpusnap "$WORK/cpu.$1.json"; }
cpudiff() { # cpudiff FROM TO LABEL OUTFILE
    "$PY" "$PEERS_PY" cpudiff "$WORK/cpu.$1.json" "$WORK/cpu.$2.json" --pgid "$PGID" \
        --label "$3" | tee -a "$4"
}

SMTP_PORT=$("$LOADGEN" freeport)
SMS_PORT=$("$LOADGEN" freeport)
SID="AC$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')"
TOKEN=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')

# start_peers IMPL TAG: both peers; sets SMTP_PID, SMS_PID.
start_peers() {
    local impl=$1 tag=$2
    rm -f "$WORK/smtp.ready" "$WORK/sms.ready"
    "$PY" "$PEERS_PY" serve --channel smtp --impl "$impl" --port "$SMTP_PORT" \
        --ready-file "$WORK/smtp.ready" --sample-file "$WORK/sample.smtp.$impl" \
        >"$WORK/peer.smtp.$tag.out" 2>&1 &
    SMTP_PID=$!
    PIDS+=("$SMTP_PID")
    "$PY" "$PEERS_PY" serve --channel sms --impl "$impl" --port "$SMS_PORT" --sid "$SID" \
        --token "$TOKEN" --ready-file "$WORK/sms.ready" --sample-file "$WORK/sample.sms.$impl" \
        >"$WORK/peer.sms.$tag.out" 2>&1 &
    SMS_PID=$!
    PIDS+=("$SMS_PID")
    for _ in $(seq 1 150); do
        [ -e "$WORK/smtp.ready" ] && [ -e "$WORK/sms.ready" ] && return 0
        if ! kill -0 "$SMTP_PID" 2>/dev/null || ! kill -0 "$SMS_PID" 2>/dev/null; then
            break
        fi
        sleep 0.1
    done
    cat "$WORK/peer.smtp.$tag.out" "$WORK/peer.sms.$tag.out" >&2
    fail "the $impl peers did not start"
}
stop_peers() { # prints the peers' RESULT lines
    stop_pid "$SMTP_PID"
    stop_pid "$SMS_PID"
    grep -h '^RESULT' "$WORK/peer.smtp.$1.out" "$WORK/peer.sms.$1.out" || true
}

# start_server DATA MODE [ENV=VALUE...]: MODE is "off" (no channel
# configured) or "on" (both channels at the peers' ports). Sets SERVER_PID,
# PORT and SERVER_DATA, and the API token when DATA is a copy that has one.
start_server() {
    local data=$1 mode=$2
    shift 2
    SERVER_DATA=$data
    bench_token "$data" --load
    local env=(env)
    if [ "$mode" = on ]; then
        env+=("CLINICBOX_SMTP_URL=smtp://127.0.0.1:$SMTP_PORT"
            "CLINICBOX_SMTP_FROM=Bench clinic <bench@clinicbox.invalid>"
            "CLINICBOX_TWILIO_ACCOUNT_SID=$SID" "CLINICBOX_TWILIO_AUTH_TOKEN=$TOKEN"
            "CLINICBOX_TWILIO_FROM=+15005550006"
            "CLINICBOX_TWILIO_BASE_URL=http://127.0.0.1:$SMS_PORT"
            "CLINICBOX_OUTBOX_TIMEOUT_SECONDS=5")
    fi
    # All clients come from 127.0.0.1: no per-address connection cap.
    env+=("CLINICBOX_HTTP_MAX_CONNECTIONS_PER_ADDRESS=0" "$@")
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
health() { # health FILE [--metrics]: appends one RESULT phase=health line
    "$PY" "$PEERS_PY" health --target "127.0.0.1:$PORT" "${@:2}" >>"$1"
}
# book OUT IDS DATE DURATION WARMUP [FILL_TO]: bench_loadgen's book scenario.
book() {
    local out=$1 ids=$2 date=$3 dur=$4 warm=$5 fill=${6:-0}
    "$LOADGEN" run --target "127.0.0.1:$PORT" -H "$AUTH_HEADER" --clients "$CLIENTS" \
        --duration "$dur" --warmup "$warm" --scenario book --ids "$ids" --base-date "$date" \
        --slot-minutes 15 --fill-to "$fill" --fill-timeout 120 | tee "$out"
}

START=$(date +%s)
echo "== clinicbox outbox benchmark =="
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo), $(uname -sr)"
echo "work dir: $WORK (filesystem: $(df -P "$WORK" | awk 'NR==2 {print $1}'))"
echo "clinicbox: $CLINICBOX_BUILT, sha256" \
     "$(sha256sum "$CLINICBOX" | cut -c1-12) (a copy in the work dir is what runs)"
echo "peers: $IMPLS (phases 2 and 3 use $FIRST_IMPL); SMTP on 127.0.0.1:$SMTP_PORT, SMS on 127.0.0.1:$SMS_PORT"
echo "load average at start: $(cut -d' ' -f1-3 /proc/loadavg) (other work on the machine skews every figure)"
echo

# ------------------------------------------------------------------ 0. prep
echo "-- 0. prep: $BOOKINGS bookings with no channel configured (messages stay queued)"
mkdir -p "$WORK/prep"
start_server "$WORK/prep" off
wait_server
"$LOADGEN" setup -H "$AUTH_HEADER" --target "127.0.0.1:$PORT" --out "$WORK/ids.txt" --doctors "$DOCTORS" \
    --patients "$CLIENTS" --slot-minutes 15 || fail "setup failed"
book "$WORK/prep.book" "$WORK/ids.txt" "$BASE_DATE" 0.1 0 "$BOOKINGS" >/dev/null || fail "prep bookings failed"
health "$WORK/prep.health"
stop_pid "$SERVER_PID"
PREP_CREATED=$(result "$WORK/prep.book" fill created_total)
PREP_QUEUED=$(result "$WORK/prep.health" health queued)
echo "prep: $PREP_CREATED bookings, $PREP_QUEUED messages queued" \
     "($(du -sk "$WORK/prep" | awk '{print $1}') kB data dir)"
[ "$PREP_QUEUED" = $((2 * PREP_CREATED)) ] ||
    echo "bench/outbox.sh: expected $((2 * PREP_CREATED)) queued messages, found $PREP_QUEUED" >&2
echo

# ------------------------------------------------------------ 1. drain + sinks
for impl in $IMPLS; do
    echo "-- 1. drain $PREP_QUEUED queued messages, $impl peers up, both channels configured"
    rm -rf "$WORK/d1.$impl"
    cp -a "$WORK/prep" "$WORK/d1.$impl"
    start_peers "$impl" "drain.$impl"
    P0=$(($(cpu_ticks "$SMTP_PID") + 0))
    Q0=$(($(cpu_ticks "$SMS_PID") + 0))
    cpusnap "d1.$impl.a"
    start_server "$WORK/d1.$impl" on CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS=1
    "$PY" "$PEERS_PY" watch --target "127.0.0.1:$PORT" --email "$PREP_CREATED" \
        --sms "$PREP_CREATED" --timeout "$DRAIN_TIMEOUT" --label "drain.$impl" \
        | tee "$WORK/d1.$impl.out" || echo "bench/outbox.sh: the drain did not finish" >&2
    cpusnap "d1.$impl.b"
    health "$WORK/d1.$impl.health" --metrics
    S_TICKS=$(cpu_ticks "$SERVER_PID")
    P1=$(cpu_ticks "$SMTP_PID")
    Q1=$(cpu_ticks "$SMS_PID")
    cpudiff "d1.$impl.a" "d1.$impl.b" "cpu-drain.$impl" "$WORK/d1.$impl.out"
    stop_pid "$SERVER_PID"
    stop_peers "drain.$impl" | tee -a "$WORK/d1.$impl.out"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK/d1.$impl"
    T=$(result "$WORK/d1.$impl.out" "label=drain.$impl" t_empty)
    awk -v s="$S_TICKS" -v p=$((P1 - P0)) -v q=$((Q1 - Q0)) -v hz="$HZ" -v t="$T" \
        -v n="$PREP_QUEUED" -v impl="$impl" \
        -v commits="$(result "$WORK/d1.$impl.health" health commits)" \
        -v jobs="$(result "$WORK/d1.$impl.health" health write_jobs)" 'BEGIN {
        if (t + 0 <= 0) exit
        printf "  CPU over the drain: clinicbox %.2f s (%.0f%% of a core, %.0f us a message),"\
               " SMTP peer %.2f s, SMS peer %.2f s; the writer committed %d transactions"\
               " carrying %d jobs (%.2f jobs a message, %.1f jobs a commit)\n", s / hz,
               s / hz / t * 100, s / hz / n * 1e6, p / hz, q / hz, commits, jobs, jobs / n,
               (commits > 0 ? jobs / commits : 0)
        printf "RESULT phase=draincpu impl=%s server_pct=%.0f server_us_per_msg=%.0f"\
               " smtp_peer_s=%.2f sms_peer_s=%.2f commits=%d jobs=%d\n", impl,
               s / hz / t * 100, s / hz / n * 1e6, p / hz, q / hz, commits, jobs }' \
        | tee -a "$WORK/d1.$impl.out"
    kill -0 "$SERVER_PID" 2>/dev/null && fail "clinicbox did not stop"
    echo
done

for impl in $SINK_IMPLS; do
    echo "-- 1s. the $impl sinks alone: one sequential client each, ${SINK_SECONDS} s" \
         "(the message clinicbox sent in phase 1, one connection as the worker keeps)"
    smtp_sample="$WORK/sample.smtp.$impl"
    sms_sample="$WORK/sample.sms.$impl"
    [ -s "$smtp_sample" ] || smtp_sample="$WORK/sample.smtp.$FIRST_IMPL"
    [ -s "$sms_sample" ] || sms_sample="$WORK/sample.sms.$FIRST_IMPL"
    start_peers "$impl" "sink.$impl"
    "$PY" "$PEERS_PY" load --channel smtp --port "$SMTP_PORT" --seconds "$SINK_SECONDS" \
        --sample-file "$smtp_sample" | tee "$WORK/sink.smtp.$impl.out" ||
        echo "bench/outbox.sh: SMTP sink load failed" >&2
    "$PY" "$PEERS_PY" load --channel sms --port "$SMS_PORT" --seconds "$SINK_SECONDS" \
        --sid "$SID" --token "$TOKEN" --sample-file "$sms_sample" \
        | tee "$WORK/sink.sms.$impl.out" || echo "bench/outbox.sh: SMS sink load failed" >&2
    stop_peers "sink.$impl" >/dev/null
done
echo

# --------------------------------------------------------------- 2. outage
echo "-- 2. outage: peers down, CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS=1, $BOOKINGS bookings," \
     "outage held ${OUTAGE} s, then the $FIRST_IMPL peers start"
mkdir -p "$WORK/outage"
start_server "$WORK/outage" on CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS=1
wait_server
"$LOADGEN" setup -H "$AUTH_HEADER" --target "127.0.0.1:$PORT" --out "$WORK/ids.outage.txt" --doctors "$DOCTORS" \
    --patients "$CLIENTS" --slot-minutes 15 >/dev/null || fail "setup failed"
book "$WORK/outage.book" "$WORK/ids.outage.txt" "$BASE_DATE" 0.1 0 "$BOOKINGS" >/dev/null ||
    fail "outage bookings failed"
OUT_CREATED=$(result "$WORK/outage.book" fill created_total)
health "$WORK/outage.health"
S0=$(cpu_ticks "$SERVER_PID")
cpusnap outage.a
T0=$(date +%s.%N)
sleep "$OUTAGE"
health "$WORK/outage.health"
T1=$(date +%s.%N)
S1=$(cpu_ticks "$SERVER_PID")
cpusnap outage.b
cpudiff outage.a outage.b "cpu-outage" "$WORK/outage.out"
awk -v n="$OUT_CREATED" -v s=$((S1 - S0)) -v hz="$HZ" -v t0="$T0" -v t1="$T1" '
    $1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } last = NR }
    END {
        t = t1 - t0
        probes = (v[last, "email_failed"] + v[last, "sms_failed"]) - (v[1, "email_failed"] + v[1, "sms_failed"])
        printf "  %d bookings -> %d messages queued (%s open); during the %.1f s outage the"\
               " senders made %d failed attempts (%.0f/s) and clinicbox used %.0f%% of a core\n",
               n, 2 * n, v[last, "queued"] + v[last, "failed"] + v[last, "sending"], t, probes,
               probes / t, s / hz / t * 100
        printf "RESULT phase=outage bookings=%d open=%d seconds=%.1f probes=%d probes_per_s=%.0f"\
               " server_pct=%.0f\n", n, v[last, "queued"] + v[last, "failed"] + v[last, "sending"],
               t, probes, probes / t, s / hz / t * 100
    }' "$WORK/outage.health" | tee -a "$WORK/outage.out"
start_peers "$FIRST_IMPL" outage
"$PY" "$PEERS_PY" watch --target "127.0.0.1:$PORT" --email "$OUT_CREATED" --sms "$OUT_CREATED" \
    --timeout "$DRAIN_TIMEOUT" --label outage | tee -a "$WORK/outage.out" ||
    echo "bench/outbox.sh: the drain after the outage did not finish" >&2
stop_pid "$SERVER_PID"
stop_peers outage | tee -a "$WORK/outage.out"
echo

# --------------------------------------------------------- 3. booking rate
declare -A BOOK_LABEL=(
    [base1]="3a. no channel configured (baseline; nothing drains)"
    [drain]="3b. both channels configured, $FIRST_IMPL peers up: the senders drain while clients book"
    [down]="3c. both channels configured, peers down, default back-off (900 s)"
    [noconf]="3d. no channel configured, clinic setting confirmations off: bookings queue nothing"
    [base2]="3e. no channel configured (baseline again)"
)
for run in base1 drain down noconf base2; do
    echo "-- ${BOOK_LABEL[$run]}"
    echo "   $CLIENTS clients, ${WARMUP} s warm-up + ${DURATION} s measured, $PREP_QUEUED messages" \
         "queued at start, bookings from $BASE_DATE_3"
    rm -rf "$WORK/b.$run"
    cp -a "$WORK/prep" "$WORK/b.$run"
    case $run in
    base1 | base2 | noconf) start_server "$WORK/b.$run" off ;;
    drain) start_peers "$FIRST_IMPL" "book.$run"
        P0=$(cpu_ticks "$SMTP_PID"); Q0=$(cpu_ticks "$SMS_PID")
        start_server "$WORK/b.$run" on CLINICBOX_OUTBOX_MAX_BACKOFF_SECONDS=1 ;;
    down) start_server "$WORK/b.$run" on ;;
    esac
    wait_server
    if [ "$run" = noconf ]; then
        "$PY" "$PEERS_PY" clinic --target "127.0.0.1:$PORT" --json '{"confirmations": false}' ||
            fail "could not turn confirmations off"
    fi
    health "$WORK/b.$run.health" --metrics
    S0=$(cpu_ticks "$SERVER_PID")
    cpusnap "b.$run.a"
    book "$WORK/b.$run.out" "$WORK/ids.txt" "$BASE_DATE_3" "$DURATION" "$WARMUP" ||
        echo "bench/outbox.sh: no successful booking in $run" >&2
    cpusnap "b.$run.b"
    S1=$(cpu_ticks "$SERVER_PID")
    health "$WORK/b.$run.health" --metrics
    cpudiff "b.$run.a" "b.$run.b" "cpu-book.$run" "$WORK/b.$run.out"
    kill -0 "$SERVER_PID" 2>/dev/null || fail "clinicbox exited during $run"
    stop_pid "$SERVER_PID"
    [ "${BENCH_KEEP:-0}" = 1 ] || rm -rf "$WORK/b.$run"
    if [ "$run" = drain ]; then
        P1=$(cpu_ticks "$SMTP_PID"); Q1=$(cpu_ticks "$SMS_PID")
        stop_peers "book.$run" >/dev/null
    else
        P0=0; P1=0; Q0=0; Q1=0
    fi
    awk -v s=$((S1 - S0)) -v p=$((P1 - P0)) -v q=$((Q1 - Q0)) -v hz="$HZ" \
        -v secs="$(awk -v d="$DURATION" -v w="$WARMUP" 'BEGIN {print d + w}')" -v run="$run" '
        $1 == "RESULT" { for (i = 2; i <= NF; i++) { split($i, kv, "="); v[NR, kv[1]] = kv[2] } last = NR }
        END {
            es = v[last, "email_sent"] - v[1, "email_sent"]
            ss = v[last, "sms_sent"] - v[1, "sms_sent"]
            fa = (v[last, "email_failed"] + v[last, "sms_failed"]) - (v[1, "email_failed"] + v[1, "sms_failed"])
            cm = v[last, "commits"] - v[1, "commits"]
            jb = v[last, "write_jobs"] - v[1, "write_jobs"]
            printf "  while booking (%.0f s): sent email %d (%.0f/s), sms %d (%.0f/s); failed"\
                   " attempts %d (%.0f/s); clinicbox CPU %.0f%% of a core; peers %.0f%% + %.0f%%;"\
                   " writer: %d commits, %d jobs (%.1f a commit)\n",
                   secs, es, es / secs, ss, ss / secs, fa, fa / secs, s / hz / secs * 100,
                   p / hz / secs * 100, q / hz / secs * 100, cm, jb, (cm > 0 ? jb / cm : 0)
            printf "RESULT phase=bookside run=%s email_sent=%d sms_sent=%d failed=%d"\
                   " server_pct=%.0f peers_pct=%.0f open_end=%d\n", run, es, ss, fa,
                   s / hz / secs * 100, (p + q) / hz / secs * 100,
                   v[last, "queued"] + v[last, "sending"] + v[last, "failed"]
        }' "$WORK/b.$run.health" | tee -a "$WORK/b.$run.out"
    echo
done

# ------------------------------------------------------------------ summary
ELAPSED=$(($(date +%s) - START))
echo "load average at end: $(cut -d' ' -f1-3 /proc/loadavg)"
{
    for impl in $IMPLS; do
        echo "D $impl $(result "$WORK/d1.$impl.out" "label=drain.$impl" email_rate)" \
             "$(result "$WORK/d1.$impl.out" "label=drain.$impl" sms_rate)" \
             "$(result "$WORK/d1.$impl.out" "label=drain.$impl" t_empty)" \
             "$(result "$WORK/d1.$impl.out" "label=drain.$impl" total_rate)" \
             "$(result "$WORK/sink.smtp.$impl.out" sinkload rate)" \
             "$(result "$WORK/sink.sms.$impl.out" sinkload rate)" \
             "$(result "$WORK/d1.$impl.out" draincpu server_pct)" \
             "$(result "$WORK/d1.$impl.out" cpu others_pct)" \
             "$(result "$WORK/d1.$impl.out" peer=smtp connections)"
    done
    for impl in $SINK_IMPLS; do
        echo "S $impl $(result "$WORK/sink.smtp.$impl.out" sinkload rate)" \
             "$(result "$WORK/sink.sms.$impl.out" sinkload rate)"
    done
    echo "O $(result "$WORK/outage.out" outage probes_per_s) $(result "$WORK/outage.out" outage server_pct)" \
         "$(result "$WORK/outage.out" label=outage t_first_sent) $(result "$WORK/outage.out" label=outage t_empty)" \
         "$(result "$WORK/outage.out" label=outage total_rate) $(result "$WORK/outage.out" outage open)" \
         "$(result "$WORK/outage.out" cpu others_pct)"
    for run in base1 drain down noconf base2; do
        echo "B $run $(result "$WORK/b.$run.out" measured ok_rps) $(result "$WORK/b.$run.out" measured p50_ms)" \
             "$(result "$WORK/b.$run.out" measured p99_ms) $(result "$WORK/b.$run.out" bookside email_sent)" \
             "$(result "$WORK/b.$run.out" bookside sms_sent) $(result "$WORK/b.$run.out" bookside failed)" \
             "$(result "$WORK/b.$run.out" cpu others_pct) $(result "$WORK/b.$run.out" measured other)" \
             "$(result "$WORK/b.$run.out" measured errors)"
    done
} >"$WORK/summary.in"
awk -v elapsed="$ELAPSED" -v n="$PREP_QUEUED" -v secs="$DURATION" -v warm="$WARMUP" \
    -v clients="$CLIENTS" -v first="$FIRST_IMPL" '
function f1(x) { return (x == "nan" || x == "") ? "n/a" : sprintf("%.1f", x) }
function f0(x) { return (x == "nan" || x == "") ? "n/a" : sprintf("%.0f", x) }
$1 == "D" { d[$2] = $0; impls[++ni] = $2 }
$1 == "O" { o = $0 }
$1 == "S" { sk[$2] = $0; simpls[++ns] = $2 }
$1 == "B" { b[$2] = $0 }
END {
    printf "== summary: outbox, run took %d s ==\n", elapsed
    printf "%-58s %-26s %s\n", "figure", "measured", "limit / comparison (same run)"
    for (i = 1; i <= ni; i++) {
        split(d[impls[i]], x, " ")
        printf "%-58s %-26s %s\n", sprintf("1. email handed to the SMTP sink (%s peers), msg/s", x[2]),
            f1(x[3]), sprintf("sink alone: %s/s (one client)", f1(x[7]))
        printf "%-58s %-26s %s\n", sprintf("1. SMS handed to the Twilio stand-in (%s peers), msg/s", x[2]),
            f1(x[4]), sprintf("sink alone: %s/s (one client)", f1(x[8]))
        printf "%-58s %-26s %s\n", sprintf("   both channels: %d messages drained in", n),
            sprintf("%s s (%s msg/s)", f1(x[5]), f0(x[6])),
            sprintf("clinicbox %s%% of a core; others on the box %s%%; SMTP connections %s",
                    f0(x[9]), f0(x[10]), x[11])
    }
    for (i = 1; i <= ns; i++) {
        if (simpls[i] in d) continue
        split(sk[simpls[i]], x, " ")
        printf "%-58s %-26s %s\n", sprintf("   %s peers alone (not used to drain), msg/s", x[2]),
            sprintf("SMTP %s, SMS %s", f1(x[3]), f1(x[4])), "one sequential client each"
    }
    split(o, y, " ")
    printf "%-58s %-26s %s\n", sprintf("2. drain after an outage (%s msgs open, %s peers)", y[7], first),
        sprintf("%s s (%s msg/s)", f1(y[5]), f0(y[6])),
        sprintf("first message out %s s after the peers came back", f1(y[4]))
    printf "%-58s %-26s %s\n", "   during the outage (back-off 1 s): failed attempts/s",
        f0(y[2]), sprintf("clinicbox %s%% of a core doing it; others %s%%", f0(y[3]), f0(y[8]))
    split(b["base1"], p, " "); split(b["base2"], q, " ")
    base = (p[3] + q[3]) / 2
    lbl["base1"] = "3. bookings/s, no channel configured (before)"
    lbl["drain"] = "3. bookings/s while the senders drain (peers up)"
    lbl["down"] = "3. bookings/s, channels configured, peers down"
    lbl["noconf"] = "   bookings/s, confirmations off (nothing queued)"
    lbl["base2"] = "3. bookings/s, no channel configured (after)"
    split("base1 drain down noconf base2", order, " ")
    for (k = 1; k <= 5; k++) {
        split(b[order[k]], z, " ")
        cmp = "baseline"
        if (order[k] == "drain" || order[k] == "down" || order[k] == "noconf")
            cmp = sprintf("%.0f%% of the baseline mean %.0f/s", (base > 0 ? z[3] / base * 100 : 0), base)
        printf "%-58s %-26s %s\n", lbl[order[k]],
            sprintf("%s (p50 %s, p99 %s ms)", f0(z[3]), f1(z[4]), f1(z[5])),
            sprintf("%s; sent %s+%s, failed %s; others %s%%", cmp, z[6], z[7], z[8], z[9])
    }
    printf "limits: each sink alone is driven by one sequential Python client on the same cores;\n"
    printf "  bookings: %d clients, %s s warm-up + %s s measured, %d messages queued at start.\n",
        clients, warm, secs, n
}' "$WORK/summary.in"
