#!/usr/bin/env bash
# Measures whether ost-linker's reads keep SQLite's page cache through bursts of writes, for
# servers side by side.
#
# Each SQLite connection keeps the database pages it read in memory, so a read of a hot
# tree costs no system call. This script starts each server given with --server, pinned to
# CPU 0, on its own copy of the database. It measures `GET /trees/{id}` of the oldest tree
# (64 connections for 3 seconds, wrk pinned to CPU 1): requests per second, and read system
# calls of the server per request, from /proc/PID/io. Then, N times (--cycles), it sends each server uncached
# evidence pages and then node creations, S seconds of each (--phase-seconds), and measures
# `GET /trees/{id}` again.
# A server whose reads lose their cache shows about one read call per database page that a
# request touches, where a healthy one shows close to none.
#
# Usage: scripts/bench/page_cache.sh --database PATH --server NAME=BINARY[:VARIABLE=VALUE]...
#                                    [--cycles N] [--phase-seconds S]
#   --database PATH  an existing database, such as one made by `ost-linker generate`. Each
#                    server runs on its own copy, deleted when the script exits
#   --server NAME=BINARY[:VARIABLE=VALUE]  a server to start, without a service token;
#                    repeat for each
#   --cycles N       cycles of evidence pages and node creations [default: 2]
#   --phase-seconds S  seconds of each phase of a cycle [default: 5]
# Paths are relative to the current directory.
#
# Needs python3, taskset and wrk, and room in the temporary directory for a copy of the
# database per server. Every request goes to 127.0.0.1, and every server started here is
# stopped on exit.
set -euo pipefail

REPO_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
readonly REPO_DIR

SOURCE_DATABASE=""
CYCLES=2
PHASE_SECONDS=5
SERVERS=()
while [[ $# -gt 0 ]]; do
  if [[ $1 == --* && $1 != --help && $# -lt 2 ]]; then
    echo "page_cache.sh: $1 needs a value; run scripts/bench/page_cache.sh --help" >&2
    exit 2
  fi
  case $1 in
    --database) SOURCE_DATABASE=$2; shift 2 ;;
    --server) SERVERS+=("$2"); shift 2 ;;
    --cycles) CYCLES=$2; shift 2 ;;
    --phase-seconds) PHASE_SECONDS=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "page_cache.sh: unknown argument $1; run scripts/bench/page_cache.sh --help" >&2; exit 2 ;;
  esac
done

fail() {
  echo "page_cache.sh: $*" >&2
  exit 1
}

[[ -f $SOURCE_DATABASE ]] ||
  fail "--database is '$SOURCE_DATABASE', which is not a file; make one with ost-linker generate"
((${#SERVERS[@]} > 0)) || fail "no --server given; add --server NAME=BINARY"
[[ $CYCLES =~ ^[0-9]+$ ]] || fail "--cycles is '$CYCLES', not a whole number"
[[ $PHASE_SECONDS =~ ^[1-9][0-9]*$ ]] || fail "--phase-seconds is '$PHASE_SECONDS', not a whole number of seconds from 1"
for command in python3 taskset wrk; do
  command -v "$command" >/dev/null || fail "$command is missing: install it"
done

readonly STARTUP_TIMEOUT_SECONDS=60 MEASURE_SECONDS=3
WORK_DIR=$(mktemp -d)
readonly WORK_DIR
declare -A PID=() ADDR=() TREE=() WRITE_TREE=() PARENTS=()
NAMES=()

# shellcheck source=scripts/bench/servers.sh
source "$REPO_DIR/scripts/bench/servers.sh"
trap cleanup EXIT

# Finds a tree to read on server NAME, creates a tree with 16 parents to write under, and
# lists 1,000 evidence pages, each starting after a different item, in $WORK_DIR/NAME.paths.
prepare() {
  local name=$1 ids
  ids=$(python3 - "http://${ADDR[$name]}" "$WORK_DIR/$name.paths" <<'PY'
import json, sys, urllib.request

base, paths_file = sys.argv[1:]

def call(path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(base + path, data=data,
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=60) as response:
        return json.load(response)

tree = call("/trees?limit=1")["items"][0]["id"]
write = call("/trees", {"title": "Page cache writes", "outcome": {"title": "Absorb the writes"}})
parents = [call("/trees/%s/nodes" % write["id"],
                {"parent_id": write["root_node_id"], "kind": "opportunity",
                 "title": "Write target %d" % number})["id"]
           for number in range(16)]

paths, cursor = [], ""
while len(paths) < 1000:
    page = call("/evidence?limit=200" + ("&cursor=" + cursor if cursor else ""))
    paths += ["/evidence?cursor=" + item["id"] for item in page["items"]]
    cursor = page.get("next_cursor")
    if not cursor:
        break
with open(paths_file, "w") as out:
    out.writelines(path + "\n" for path in paths)
print(tree, write["id"], ",".join(parents))
PY
  ) || fail "preparing server $name failed"
  read -r "TREE[$name]" "WRITE_TREE[$name]" "PARENTS[$name]" <<<"$ids"
}

# Prints the number of read system calls that server NAME has made.
read_calls() {
  awk '/^syscr:/ { print $2 }' "/proc/${PID[$1]}/io"
}

# Runs wrk against server NAME with the extra wrk arguments, and prints its requests per
# second.
drive() {
  local name=$1
  shift
  taskset -c 1 wrk -t1 -c64 --timeout 10s "$@" >"$WORK_DIR/wrk.out" ||
    fail "wrk against server $name failed"
  awk '/^Requests\/sec:/ { print $2 }' "$WORK_DIR/wrk.out"
}

# Measures GET /trees/{id} on server NAME and prints a line of the results, labelled WHEN.
measure() {
  local name=$1 when=$2 before after rate
  before=$(read_calls "$name")
  rate=$(drive "$name" "-d${MEASURE_SECONDS}s" "http://${ADDR[$name]}/trees/${TREE[$name]}")
  after=$(read_calls "$name")
  python3 -c 'import sys
name, when, rate, calls, seconds = sys.argv[1:]
rate = float(rate)
print("%-10s %-22s GET /trees/{id} %9.0f req/s  %6.2f read calls/request" % (
    name, when, rate, int(calls) / (rate * int(seconds))))' \
    "$name" "$when" "$rate" "$((after - before))" "$MEASURE_SECONDS"
}

# Sends server NAME PHASE_SECONDS of uncached evidence pages, then PHASE_SECONDS of node
# creations, and prints the rate of each, labelled with CYCLE.
load() {
  local name=$1 cycle=$2 pages writes
  pages=$(BENCH_PATHS_FILE="$WORK_DIR/$name.paths" drive "$name" "-d${PHASE_SECONDS}s" \
    -s "$REPO_DIR/scripts/bench/paths.lua" "http://${ADDR[$name]}/evidence")
  writes=$(BENCH_PARENTS="${PARENTS[$name]}" drive "$name" "-d${PHASE_SECONDS}s" \
    -s "$REPO_DIR/scripts/bench/post_node.lua" \
    "http://${ADDR[$name]}/trees/${WRITE_TREE[$name]}/nodes")
  printf '%-10s %-22s %9.0f evidence pages/s, then %.0f node creations/s\n' \
    "$name" "load, cycle $cycle" "$pages" "$writes"
}

for spec in "${SERVERS[@]}"; do
  name=${spec%%=*}
  # start_spec also rejects a repeated name, but only after the copy below has replaced the
  # first server's database.
  [[ -z ${PID[$name]:-} ]] || fail "server name $name is given twice; give each --server its own name"
  DATABASE="$WORK_DIR/$name.db"
  cp -- "$SOURCE_DATABASE" "$DATABASE"
  [[ -f $SOURCE_DATABASE-wal ]] && cp -- "$SOURCE_DATABASE-wal" "$DATABASE-wal"
  start_spec "$spec"
  prepare "$name"
done

for name in "${NAMES[@]}"; do
  measure "$name" "before"
done
for cycle in $(seq 1 "$CYCLES"); do
  for name in "${NAMES[@]}"; do
    load "$name" "$cycle"
  done
  for name in "${NAMES[@]}"; do
    measure "$name" "after cycle $cycle"
  done
done
