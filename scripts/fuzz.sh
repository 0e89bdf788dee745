#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz/fuzz_*.c, docs/fuzzing.md) with
# clang-14 in build-fuzz/ and runs them one after the other, each on one core.
#   scripts/fuzz.sh short [TARGET...]          each target 25 s (the stage of scripts/test.sh)
#   scripts/fuzz.sh long [SECONDS] [TARGET...] each target SECONDS (default 300)
#   scripts/fuzz.sh replay [TARGET...]         the seeds and regression inputs once each
#   scripts/fuzz.sh coverage [TARGET...]       line and branch coverage of each target's own
#                                              sources by its corpus (llvm-cov, build-fuzz/coverage)
# A run starts from the seeds in tests/fuzz/corpus/<target>/ plus what
# earlier runs found (build-fuzz/corpus/<target>/, kept, never committed).
# A crash, sanitizer report, leak, timeout (10 s for one input) or a broken
# check is saved under build-fuzz/artifacts/<target>/, its report printed,
# and the script exits non-zero. One line per target says how it went; the
# full libFuzzer output is in build-fuzz/logs/<target>.log.
set -uo pipefail
cd "$(dirname "$0")/.." || exit 1

mode=${1:-short}
shift || true
case $mode in
  short) secs=25 ;;
  long)
    secs=300
    if [[ ${1:-} =~ ^[0-9]+$ ]]; then
      secs=$1
      shift
    fi
    ;;
  replay | coverage) secs=0 ;;
  *)
    echo "usage: scripts/fuzz.sh short|long [SECONDS]|replay|coverage [TARGET...]" >&2
    exit 2
    ;;
esac

cc=${CLINICBOX_FUZZ_CC:-clang-14}
if ! command -v "$cc" >/dev/null 2>&1; then
  echo "fuzz: $cc not found (scripts/deps.sh test installs clang-14 and libclang-rt-14-dev)" >&2
  exit 1
fi
dir=build-fuzz
echo "== $dir: build (clang: $cc, -fsanitize=fuzzer,address,undefined)"
cmake -S . -B "$dir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
  -DCLINICBOX_FUZZ=ON >/dev/null || exit 1
cmake --build "$dir" -j"$(nproc)" --target fuzzers 2>&1 | grep -vE '^\[ *[0-9]+%\]'
[ "${PIPESTATUS[0]}" -eq 0 ] || exit 1

targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
  for src in tests/fuzz/fuzz_*.c; do
    t=${src##*/fuzz_}
    targets+=("${t%.c}")
  done
fi

# The longest input worth trying per target (libFuzzer's -max_len).
max_len() {
  case $1 in
    router | rfc3339 | credentials) echo 512 ;;
    request) echo 16384 ;; # room for 32 levels of nesting and long strings
    tzif) echo 8192 ;;     # Europe/Berlin is 2298 bytes
    *) echo 4096 ;;
  esac
}

# The sources a target is about, for `coverage`.
sources() {
  case $1 in
    request) echo src/http/body.c src/http/input.c src/core/etag.c ;;
    router) echo src/http/router.c ;;
    config) echo src/core/config.c ;;
    rfc3339) echo src/core/timefmt.c ;;
    tzif) echo src/core/tz.c ;;
    docmap) echo sync/docmap.c sync/hlc.c ;;
    credentials) echo src/auth/credentials.c ;;
    *) echo "tests/fuzz/fuzz_$1.c" ;;
  esac
}

# Coverage: the same targets built once more with clang's source-based
# coverage, each run once over its corpus (the seeds and what runs found).
# llvm-cov counts lines and branches of the source, which libFuzzer's cov:
# (instrumented edges, sanitizer checks included) does not show per file.
if [ "$mode" = coverage ]; then
  cdir=$dir/coverage
  cmake -S . -B "$cdir" -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
    -DCLINICBOX_FUZZ=ON -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null || exit 1
  cmake --build "$cdir" -j"$(nproc)" --target fuzzers 2>&1 | grep -vE '^\[ *[0-9]+%\]'
  [ "${PIPESTATUS[0]}" -eq 0 ] || exit 1
  for t in "${targets[@]}"; do
    [ -x "$cdir/tests/fuzz/fuzz_$t" ] || { echo "== $t: not built"; continue; }
    mkdir -p "$dir/corpus/$t"
    rm -f "$cdir/$t.profraw"
    LLVM_PROFILE_FILE="$cdir/$t.profraw" "$cdir/tests/fuzz/fuzz_$t" -runs=0 \
      "$dir/corpus/$t" "tests/fuzz/corpus/$t" >"$cdir/$t.log" 2>&1 || exit 1
    llvm-profdata-14 merge -o "$cdir/$t.profdata" "$cdir/$t.profraw" || exit 1
    echo "== $t ($(find "$dir/corpus/$t" "tests/fuzz/corpus/$t" -type f | wc -l) inputs)"
    # shellcheck disable=SC2046
    llvm-cov-14 report "$cdir/tests/fuzz/fuzz_$t" -instr-profile="$cdir/$t.profdata" \
      $(for f in $(sources "$t"); do echo "$PWD/$f"; done)
  done
  exit 0
fi

# Whatever the sanitizers find is fatal, with a stack to read.
export ASAN_OPTIONS="${ASAN_OPTIONS:-}${ASAN_OPTIONS:+:}detect_leaks=1:abort_on_error=0"
export UBSAN_OPTIONS="${UBSAN_OPTIONS:-}${UBSAN_OPTIONS:+:}print_stacktrace=1"

mkdir -p "$dir/logs"
status=0
summary=()
for t in "${targets[@]}"; do
  bin=$dir/tests/fuzz/fuzz_$t
  seeds=tests/fuzz/corpus/$t
  if [ -f "tests/fuzz/fuzz_$t.c" ] && [ ! -x "$bin" ] &&
     grep -q "FUZZ_NEEDS_fuzz_$t " tests/fuzz/CMakeLists.txt; then
    echo "fuzz: $t     left out: the code it fuzzes is not on this branch (tests/fuzz/CMakeLists.txt)"
    continue
  fi
  if [ ! -x "$bin" ] || [ ! -d "$seeds" ]; then
    echo "fuzz: no target $t (tests/fuzz/fuzz_$t.c and $seeds/)" >&2
    status=1
    continue
  fi
  log=$dir/logs/$t.log
  mkdir -p "$dir/corpus/$t" "$dir/artifacts/$t"
  args=(-timeout=10 -rss_limit_mb=2048 -max_len="$(max_len "$t")" -print_final_stats=1
        -artifact_prefix="$dir/artifacts/$t/")
  [ -f "tests/fuzz/$t.dict" ] && args+=(-dict="tests/fuzz/$t.dict")
  if [ "$mode" = replay ]; then
    "$bin" "${args[@]}" -runs=0 "$seeds" >"$log" 2>&1
  else
    "$bin" "${args[@]}" -max_total_time="$secs" "$dir/corpus/$t" "$seeds" >"$log" 2>&1
  fi
  rc=$?
  # libFuzzer's last status line, e.g.
  # "#687107 DONE   cov: 340 ft: 854 corp: 339/58Kb lim: 2145 exec/s: 42944 rss: 519Mb"
  last=$(grep -E '^#[0-9]+[[:space:]]+(DONE|INITED|NEW|REDUCE|pulse)' "$log" | tail -1)
  runs=$(sed -nE 's/^stat::number_of_executed_units: *([0-9]+).*/\1/p' "$log" | tail -1)
  rate=$(sed -nE 's/^stat::average_exec_per_sec: *([0-9]+).*/\1/p' "$log" | tail -1)
  cov=$(echo "$last" | sed -nE 's/.* cov: ([0-9]+).*/\1/p')
  ft=$(echo "$last" | sed -nE 's/.* ft: ([0-9]+).*/\1/p')
  corp=$(echo "$last" | sed -nE 's/.* corp: ([0-9]+\/[0-9A-Za-z]+).*/\1/p')
  if [ "$rc" -eq 0 ]; then
    result=ok
  else
    result="FAILED (exit $rc)"
    status=1
  fi
  line=$(printf '%-8s %-16s %4ss %10s runs %8s exec/s  cov %-5s ft %-6s corpus %s' \
    "$t" "$result" "$secs" "${runs:-?}" "${rate:-?}" "${cov:-?}" "${ft:-?}" "${corp:-?}")
  echo "fuzz: $line"
  summary+=("$line")
  if [ "$rc" -ne 0 ]; then
    echo "---- $log (end) ----"
    grep -vE '^#[0-9]+' "$log" | tail -60
    ls "$dir/artifacts/$t"/* 2>/dev/null | sed 's/^/fuzz: saved input: /'
    echo "----"
  fi
done
echo
echo "== fuzz $mode: ${#summary[@]} target(s), $([ $status -eq 0 ] && echo 'no crash' || echo 'FAILED')"
printf '%s\n' "${summary[@]}"
exit $status
