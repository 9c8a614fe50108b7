#!/usr/bin/env bash
# Export benchmark of the ost-linker service on 127.0.0.1: time and peak memory of
# `GET /trees/{id}/export` for one large tree.
#
# It builds the release binary and writes a tree document of NODES nodes with
# scripts/bench/tree_document.py, whose docstring describes the tree. Then it imports the
# document into a new database. Then, ROUNDS times, it starts a new server pinned to CPU 0
# on that database, exports the tree once with curl and stops the server, so each export's
# peak RSS is the server's own, not the import's. Each line shows curl's time_total, the
# bytes received, the peak RSS before and after the export, and the start of the SHA-256 of
# the body, which every export of one run repeats. The import gives the nodes new ids, so
# the digest differs between runs.
#
# With --writes S, it then measures what a slow client does to the write-ahead log. It starts
# one more server and exports the tree to a curl that reads 300 KB/s. Meanwhile wrk (16
# connections, pinned to CPU 1) creates nodes for S seconds. It prints the size of the log
# file before and after the writes, and curl's figures once the export ends.
#
# Usage: scripts/bench/transfer.sh [--nodes N] [--rounds R] [--writes S]
#   --nodes N    nodes of the tree [default: 10000]
#   --rounds R   exports [default: 3]
#   --writes S   seconds of writes during a slow export [default: 0, skipped]
# Environment: BENCH_SERVER=PATH imports and exports with another ost-linker binary, such as
# one built from an earlier commit.
#
# Needs cargo, curl, python3, sha256sum and taskset, and wrk for --writes. Every request goes
# to 127.0.0.1, and every server started here is stopped on exit.
set -euo pipefail

cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.."

NODES=10000
ROUNDS=3
WRITES=0
while [[ $# -gt 0 ]]; do
  case $1 in
    --nodes) NODES=$2; shift 2 ;;
    --rounds) ROUNDS=$2; shift 2 ;;
    --writes) WRITES=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    *) echo "transfer.sh: unknown argument $1; run scripts/bench/transfer.sh --help" >&2; exit 2 ;;
  esac
done

WORK_DIR=$(mktemp -d)
readonly WORK_DIR
SERVER_PID=""

cleanup() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf -- "$WORK_DIR"
}
trap cleanup EXIT

fail() {
  echo "transfer.sh: $*" >&2
  exit 1
}

echo "== build"
cargo build --release -p ost-linker-api --bin ost-linker
readonly BIN="$PWD/target/release/ost-linker"
readonly SERVER="${BENCH_SERVER:-$BIN}"
command -v taskset >/dev/null || fail "taskset is missing: install util-linux"

# Starts COMMAND pinned to CPU 0 on the benchmark's database and sets ADDRESS.
start_server() {
  local log="$WORK_DIR/server.log" waited=0
  env OST_LINKER_BIND=127.0.0.1:0 OST_LINKER_DATABASE="$WORK_DIR/transfer.db" \
    OST_LINKER_MAX_BODY_BYTES=1073741824 RUST_LOG=warn,ost_linker=info \
    taskset -c 0 "$1" >"$log" 2>&1 &
  SERVER_PID=$!
  ADDRESS=""
  while [[ -z $ADDRESS ]]; do
    ADDRESS=$(grep -o 'listening on [0-9.:]*' "$log" | head -n1 | cut -d' ' -f3 || true)
    if [[ -z $ADDRESS ]]; then
      kill -0 "$SERVER_PID" 2>/dev/null || fail "the server exited: $(cat -- "$log")"
      ((waited++ < 600)) || fail "the server did not start within 60 s"
      sleep 0.1
    fi
  done
}

stop_server() {
  kill "$SERVER_PID"
  wait "$SERVER_PID" 2>/dev/null || true
  SERVER_PID=""
}

peak_rss_mib() {
  awk '/^VmHWM:/ { printf "%.1f", $2 / 1024 }' "/proc/$SERVER_PID/status"
}

echo "== document of $NODES nodes"
python3 scripts/bench/tree_document.py "$WORK_DIR/document.json" "$NODES"

echo "== import"
start_server "$SERVER"
import_stats=$(curl -sS --max-time 600 -o "$WORK_DIR/imported.json" \
  -w '%{http_code} %{time_total} %{size_upload}' -X POST "http://$ADDRESS/trees/import" \
  -H 'Content-Type: application/json' --data-binary "@$WORK_DIR/document.json")
read -r status seconds bytes <<<"$import_stats"
[[ $status == 201 ]] || fail "import returned $status: $(head -c 500 "$WORK_DIR/imported.json")"
tree_id=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <"$WORK_DIR/imported.json")
echo "import: $seconds s for $bytes bytes; server peak RSS $(peak_rss_mib) MiB"
stop_server

echo "== export with $SERVER"
for round in $(seq 1 "$ROUNDS"); do
  start_server "$SERVER"
  before=$(peak_rss_mib)
  export_stats=$(curl -sS --max-time 600 -o "$WORK_DIR/exported.json" \
    -w '%{http_code} %{time_total} %{size_download}' "http://$ADDRESS/trees/$tree_id/export")
  read -r status seconds bytes <<<"$export_stats"
  [[ $status == 200 ]] || fail "export returned $status"
  digest=$(sha256sum "$WORK_DIR/exported.json" | cut -c1-16)
  echo "export $round: $seconds s for $bytes bytes; server peak RSS $before MiB before," \
    "$(peak_rss_mib) MiB after; sha256 $digest"
  stop_server
done

[[ $WRITES -gt 0 ]] || exit 0

echo "== export to a client that reads 300 KB/s, during $WRITES s of writes"
command -v wrk >/dev/null || fail "wrk is missing: install it (Debian: apt-get install wrk)"
start_server "$SERVER"
created=$(curl -sS -X POST "http://$ADDRESS/trees" -H 'Content-Type: application/json' \
  -d '{"title": "Writes during an export", "outcome": {"title": "Outcome"}}')
write_tree=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["id"])' <<<"$created")
BENCH_PARENTS=$(python3 -c 'import json, sys; print(json.load(sys.stdin)["root_node_id"])' \
  <<<"$created")
export BENCH_PARENTS
log_file="$WORK_DIR/transfer.db-wal"
echo "log before: $(stat -c %s "$log_file") bytes"
curl -sS --max-time 600 --limit-rate 300K -o "$WORK_DIR/slow.json" \
  -w 'export: %{http_code}, %{size_download} bytes in %{time_total} s, first byte after %{time_starttransfer} s\n' \
  "http://$ADDRESS/trees/$tree_id/export" >"$WORK_DIR/slow.out" &
slow_pid=$!
sleep 1
taskset -c 1 wrk -t1 -c16 "-d${WRITES}s" -s scripts/bench/post_node.lua \
  "http://$ADDRESS/trees/$write_tree/nodes" | grep -E 'Requests/sec|Non-2xx' || true
echo "log after $WRITES s of writes: $(stat -c %s "$log_file") bytes"
wait "$slow_pid" || fail "the slow export failed: $(cat -- "$WORK_DIR/slow.out")"
cat -- "$WORK_DIR/slow.out"
echo "server peak RSS $(peak_rss_mib) MiB"
stop_server
