#!/usr/bin/env bash
# CPU time per request of ost-linker servers on 127.0.0.1, side by side.
#
# wrk's requests per second move with everything else the machine runs, and a ratio of two
# runs can only be as steady as both. The CPU time that the server itself spends on each
# request moves less. This script starts each server given with --server, pinned to CPU 0,
# on one existing database. Then, ROUNDS times and for each server in turn, it drives one
# path with wrk (64 connections, pinned to CPU 1) for 5 seconds. It reads the server's user
# and system time from /proc/PID/stat before and after the middle 3 seconds and prints the
# CPU microseconds per request, the requests per second and the busy fraction of the
# server's core. A busy fraction well below 1 means wrk, not the server, set the pace.
#
# Usage: scripts/bench/cpu.sh --database PATH --server NAME=BINARY[:VARIABLE=VALUE]...
#                             [--path PATH | --paths-file FILE] [--header 'NAME: VALUE']
#                             [--rounds R]
#   --database PATH  an existing database, such as one made by `ost-linker generate`
#   --server NAME=BINARY[:VARIABLE=VALUE]  a server to start; repeat for each. The optional
#                    variable is set for that server only, such as
#                    gated=target/release/ost-linker:OST_LINKER_SERVICE_TOKEN=abc
#   --path PATH      the request path [default: /health]
#   --paths-file FILE  paths to send in turn, one per line, as scripts/bench/paths.lua does
#   --header 'NAME: VALUE'  a header for every request, such as a service token
#   --rounds R       rounds [default: 3]
# Paths are relative to the current directory.
#
# Needs curl, python3, taskset and wrk. Every request goes to 127.0.0.1, and every server started here
# is stopped on exit.
set -euo pipefail

REPO_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
readonly REPO_DIR

DATABASE=""
REQUEST_PATH=/health
PATHS_FILE=""
HEADER=""
ROUNDS=3
SERVERS=()
while [[ $# -gt 0 ]]; do
  case $1 in
    --database) DATABASE=$2; shift 2 ;;
    --server) SERVERS+=("$2"); shift 2 ;;
    --path) REQUEST_PATH=$2; shift 2 ;;
    --paths-file) PATHS_FILE=$2; shift 2 ;;
    --header) HEADER=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "cpu.sh: unknown argument $1; run scripts/bench/cpu.sh --help" >&2; exit 2 ;;
  esac
done

fail() {
  echo "cpu.sh: $*" >&2
  exit 1
}

[[ -f $DATABASE ]] || fail "--database is '$DATABASE', which is not a file; make one with ost-linker generate"
((${#SERVERS[@]} > 0)) || fail "no --server given; add --server NAME=BINARY"
[[ -z $PATHS_FILE || -s $PATHS_FILE ]] || fail "--paths-file $PATHS_FILE is missing or empty"
for command in curl python3 taskset wrk; do
  command -v "$command" >/dev/null || fail "$command is missing: install it"
done

readonly STARTUP_TIMEOUT_SECONDS=60
readonly LOAD_SECONDS=5 MEASURED_SECONDS=3
readonly CLOCK_TICKS=$(getconf CLK_TCK)
WORK_DIR=$(mktemp -d)
readonly WORK_DIR
declare -A PID=() ADDR=()
NAMES=()

# shellcheck source=scripts/bench/servers.sh
source "$REPO_DIR/scripts/bench/servers.sh"
trap cleanup EXIT

# Prints the user plus system time of server NAME, in clock ticks.
cpu_ticks() {
  awk '{ print $14 + $15 }' "/proc/${PID[$1]}/stat"
}

# Loads server NAME for LOAD_SECONDS and prints its figures of the middle MEASURED_SECONDS.
measure() {
  local name=$1 round=$2
  local url="http://${ADDR[$name]}$REQUEST_PATH" out="$WORK_DIR/wrk.out"
  local args=(-t1 -c64 "-d${LOAD_SECONDS}s" --timeout 10s) headers=()
  [[ -n $HEADER ]] && headers=(-H "$HEADER")
  args+=("${headers[@]}")
  if [[ -n $PATHS_FILE ]]; then
    args+=(-s "$REPO_DIR/scripts/bench/paths.lua")
    export BENCH_PATHS_FILE=$PATHS_FILE
  fi

  curl -sS -o /dev/null "${headers[@]}" "$url" || fail "curl $url failed"
  taskset -c 1 wrk "${args[@]}" "$url" >"$out" &
  local load=$!
  sleep 1
  local before after
  before=$(cpu_ticks "$name")
  sleep "$MEASURED_SECONDS"
  after=$(cpu_ticks "$name")
  wait "$load"

  python3 - "$out" "$round" "$name" "$before" "$after" "$CLOCK_TICKS" "$MEASURED_SECONDS" <<'PY'
import re, sys
path, round_, name, before, after, ticks, seconds = sys.argv[1:]
text = open(path).read()
rps = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
other = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
cpu_seconds = (int(after) - int(before)) / int(ticks)
print("round %s  %-10s %10.0f req/s  %8.2f us CPU/request  busy %.2f  non-2xx %s" % (
    round_, name, rps, cpu_seconds * 1e6 / (rps * int(seconds)), cpu_seconds / int(seconds),
    other.group(1) if other else 0))
PY
}

for spec in "${SERVERS[@]}"; do
  start_spec "$spec"
done
for round in $(seq 1 "$ROUNDS"); do
  for name in "${NAMES[@]}"; do
    measure "$name" "$round"
  done
done
