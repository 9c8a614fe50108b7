#!/usr/bin/env bash
# Smoke test of the ost-linker binary. It builds the binary and starts it on a free port of
# 127.0.0.1 with a temporary database. With the API open, it replays the curl walkthrough of
# README.md and the examples of its sample data and export and import sections, loading the
# sample with `ost-linker load-sample`. Then it restarts the server behind the service-token
# gate and replays the gated examples, and runs the loader with and without the token. Each
# request must return its expected status. At the first one that does not, the script names the
# step and exits 1.
#
# Needs cargo, curl and python3. Usage: scripts/smoke.sh
set -euo pipefail

cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."

readonly STARTUP_TIMEOUT_SECONDS=30
readonly CURL_TIMEOUT_SECONDS=10
# The time limit of one whole loader run. The loader itself stops its request after 60 seconds.
readonly LOADER_TIMEOUT_SECONDS=70
readonly SAMPLE_FILE=samples/trial-retention.json

WORK_DIR=$(mktemp -d)
readonly WORK_DIR
readonly DATABASE="$WORK_DIR/ost-linker.db"
readonly BODY="$WORK_DIR/body"
readonly EXPORT="$WORK_DIR/sample-export.json"
readonly LOADER_ERRORS="$WORK_DIR/loader-errors"
SERVER_PID=""
SERVER_LOG=""
BASE=""

stop_server() {
  if [[ -n $SERVER_PID ]]; then
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    SERVER_PID=""
  fi
}

cleanup() {
  stop_server
  rm -rf -- "$WORK_DIR"
}
trap cleanup EXIT
# Bash runs the EXIT trap on a signal only when the signal is trapped.
trap 'exit 130' INT
trap 'exit 143' TERM

# Prints why STEP failed, with the server log, and exits 1. The EXIT trap stops the server.
fail() {
  local step=$1 reason=$2
  echo "FAIL $step: $reason" >&2
  if [[ -n $SERVER_LOG && -f $SERVER_LOG ]]; then
    echo "--- server log ($SERVER_LOG) ---" >&2
    cat -- "$SERVER_LOG" >&2
  fi
  exit 1
}

# Prints the member NAME of the JSON object on standard input, as the README's helper does.
field() { python3 -c 'import json, sys; print(json.load(sys.stdin)[sys.argv[1]])' "$1"; }

# Sends one request with curl and stores the response body in $BODY. Fails STEP unless the
# status is EXPECTED.
# Usage: request STEP EXPECTED CURL_ARGUMENT...
request() {
  local step=$1 expected=$2
  shift 2
  local status
  if ! status=$(curl -sS --max-time "$CURL_TIMEOUT_SECONDS" -o "$BODY" -w '%{http_code}' "$@"); then
    fail "$step" "curl failed"
  fi
  if [[ $status != "$expected" ]]; then
    fail "$step" "expected status $expected, got $status with body: $(cat -- "$BODY")"
  fi
  echo "ok   $step: $status"
}

# Fails STEP unless the `code` member of the problem details body in $BODY is EXPECTED_CODE.
expect_code() {
  local step=$1 expected_code=$2
  local code
  code=$(field code <"$BODY" 2>/dev/null) || code="(none)"
  if [[ $code != "$expected_code" ]]; then
    fail "$step" "expected code $expected_code, got $code with body: $(cat -- "$BODY")"
  fi
}

# Fails STEP unless the Python EXPRESSION, evaluated with `body` bound to the JSON in $BODY,
# prints as EXPECTED.
expect_json() {
  local step=$1 expression=$2 expected=$3
  local actual
  if ! actual=$(python3 -c 'import json, sys; body = json.load(open(sys.argv[1])); print(eval(sys.argv[2]))' \
    "$BODY" "$expression" 2>&1); then
    actual="(error: $actual)"
  fi
  if [[ $actual != "$expected" ]]; then
    fail "$step" "expected $expression to be $expected, got $actual with body: $(cat -- "$BODY")"
  fi
}

# Runs `ost-linker load-sample` on the sample file against the server and stores its standard
# output in $LOADED. Fails STEP unless the loader exits with EXPECTED_EXIT. The extra variables,
# given as NAME=VALUE, are set for the loader only.
# Usage: load_sample STEP EXPECTED_EXIT [NAME=VALUE]...
load_sample() {
  local step=$1 expected=$2
  shift 2
  local exit_status=0
  LOADED=$(env -u OST_LINKER_SERVICE_TOKEN "$@" timeout "$LOADER_TIMEOUT_SECONDS" \
    "$BINARY" load-sample "$SAMPLE_FILE" --url "$BASE" 2>"$LOADER_ERRORS") || exit_status=$?
  if [[ $exit_status != "$expected" ]]; then
    fail "$step" "expected exit status $expected, got $exit_status with output: $LOADED $(cat -- "$LOADER_ERRORS")"
  fi
  echo "ok   $step: exit status $exit_status"
}

# Starts the server on 127.0.0.1 port 0, with the extra variables given as NAME=VALUE, reads
# the bound address from its log and waits until GET /health returns 200.
# Usage: start_server LABEL [NAME=VALUE]...
start_server() {
  local label=$1
  shift
  SERVER_LOG="$WORK_DIR/server-$label.log"

  # Unset the caller's variables that would change the run, because a token would close the
  # open run and a RUST_LOG filter could hide the line that reports the address.
  env -u OST_LINKER_SERVICE_TOKEN -u OST_LINKER_SERVICE_TOKEN_FILE -u OST_LINKER_MAX_BODY_BYTES \
    RUST_LOG=info OST_LINKER_BIND=127.0.0.1:0 OST_LINKER_DATABASE="$DATABASE" "$@" \
    "$BINARY" >"$SERVER_LOG" 2>&1 &
  SERVER_PID=$!

  local step="start $label server"
  local deadline=$((SECONDS + STARTUP_TIMEOUT_SECONDS))
  local address=""
  while [[ -z $address ]]; do
    if ! kill -0 "$SERVER_PID" 2>/dev/null; then
      SERVER_PID=""
      fail "$step" "the server exited before it reported its address"
    fi
    if ((SECONDS >= deadline)); then
      fail "$step" "no 'ost-linker listening on' line within $STARTUP_TIMEOUT_SECONDS s"
    fi
    sleep 0.1
    address=$(sed -n 's/.*ost-linker listening on \([0-9.]*:[0-9]*\).*/\1/p' "$SERVER_LOG")
  done
  BASE="http://$address"

  local status=""
  while [[ $status != 200 ]]; do
    if ((SECONDS >= deadline)); then
      fail "$step" "GET /health did not return 200 within $STARTUP_TIMEOUT_SECONDS s (last status: ${status:-none})"
    fi
    sleep 0.1
    status=$(curl -s --max-time 1 -o /dev/null -w '%{http_code}' "$BASE/health") || true
  done
  echo "ok   $step: listening on $address"
}

echo "building ost-linker"
# The build's JSON messages name the executable, wherever the target directory is.
if ! BINARY=$(
  cargo build -p ost-linker-api --message-format=json-render-diagnostics |
    python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "ost-linker" and message.get("executable"):
        print(message["executable"])
'
); then
  fail "build" "cargo build -p ost-linker-api failed"
fi
if [[ ! -x $BINARY ]]; then
  fail "build" "cargo reported no ost-linker executable"
fi
readonly BINARY

# --- The open API: the README walkthrough. ---

start_server open
JSON='Content-Type: application/json'

request "GET /health" 200 "$BASE/health"

request "POST /trees" 201 -X POST "$BASE/trees" -H "$JSON" \
  -d '{"title": "Trial retention", "outcome": {"title": "Raise 90-day retention of trial accounts from 18% to 26%"}}'
TREE_ID=$(field id <"$BODY")
ROOT_ID=$(field root_node_id <"$BODY")

request "POST opportunity under the outcome" 201 -X POST "$BASE/trees/$TREE_ID/nodes" -H "$JSON" \
  -d '{"parent_id": "'"$ROOT_ID"'", "kind": "opportunity", "title": "Setting up the first real schedule takes too much effort"}'
SETUP_ID=$(field id <"$BODY")

request "POST second opportunity under the outcome" 201 -X POST "$BASE/trees/$TREE_ID/nodes" -H "$JSON" \
  -d '{"parent_id": "'"$ROOT_ID"'", "kind": "opportunity", "title": "Staff availability arrives by chat message and paper slip"}'
AVAILABILITY_ID=$(field id <"$BODY")

request "POST solution under the first opportunity" 201 -X POST "$BASE/trees/$TREE_ID/nodes" -H "$JSON" \
  -d '{"parent_id": "'"$SETUP_ID"'", "kind": "solution", "title": "Paste a staff list from a spreadsheet, with column matching"}'
IMPORT_ID=$(field id <"$BODY")

request "POST experiment under the solution" 201 -X POST "$BASE/trees/$TREE_ID/nodes" -H "$JSON" \
  -d '{"parent_id": "'"$IMPORT_ID"'", "kind": "experiment", "title": "Fake door: an Import from spreadsheet button on the empty staff page"}'

request "GET /trees/{id}/nodes" 200 "$BASE/trees/$TREE_ID/nodes"
KINDS=$(python3 -c 'import json, sys; print(" ".join(node["kind"] for node in json.load(sys.stdin)["items"]))' <"$BODY")
if [[ $KINDS != "outcome opportunity solution experiment opportunity" ]]; then
  fail "GET /trees/{id}/nodes" "expected the depth-first kinds 'outcome opportunity solution experiment opportunity', got '$KINDS'"
fi

request "PATCH /nodes/{id} with If-Match" 200 -X PATCH "$BASE/nodes/$AVAILABILITY_ID" -H "$JSON" \
  -H 'If-Match: "1"' -H 'X-Actor: dana@example.com' \
  -d '{"title": "Collecting staff availability means chasing chat messages and paper slips"}'

EVIDENCE_REQUEST='{
  "kind": "interview_snippet",
  "title": "Owner chases availability over chat",
  "content": "Every Sunday I message twelve people and wait for their answers.",
  "occurred_at": "2026-11-12T15:04:00Z",
  "customer": {"segment": "smb-hospitality", "account": "Cafe Lumen"},
  "tags": ["availability", "onboarding"],
  "source": {"system": "interviews", "external_id": "int-0412"}
}'
request "POST /evidence" 201 -X POST "$BASE/evidence" -H "$JSON" \
  -H 'Idempotency-Key: interview-int-0412' -d "$EVIDENCE_REQUEST"
EVIDENCE_ID=$(field id <"$BODY")

request "POST /evidence retried with the same key" 201 -X POST "$BASE/evidence" -H "$JSON" \
  -H 'Idempotency-Key: interview-int-0412' -d "$EVIDENCE_REQUEST"
REPLAYED_ID=$(field id <"$BODY")
if [[ $REPLAYED_ID != "$EVIDENCE_ID" ]]; then
  fail "POST /evidence retried with the same key" "expected the stored item $EVIDENCE_ID, got $REPLAYED_ID"
fi

request "POST /nodes/{id}/links" 201 -X POST "$BASE/nodes/$AVAILABILITY_ID/links" -H "$JSON" \
  -d '{"evidence_id": "'"$EVIDENCE_ID"'", "relation": "supports", "strength": 4, "note": "The owner describes the chase in her own words"}'

request "GET /nodes/{id}/links" 200 "$BASE/nodes/$AVAILABILITY_ID/links"

request "GET /trees/{id}/history" 200 "$BASE/trees/$TREE_ID/history?limit=3"

request "POST experiment under an opportunity" 422 -X POST "$BASE/trees/$TREE_ID/nodes" -H "$JSON" \
  -d '{"parent_id": "'"$AVAILABILITY_ID"'", "kind": "experiment", "title": "Ask five owners to forward their availability chats"}'
expect_code "POST experiment under an opportunity" invalid_parent_kind

request "PATCH /nodes/{id} with a stale If-Match" 412 -X PATCH "$BASE/nodes/$AVAILABILITY_ID" -H "$JSON" \
  -H 'If-Match: "1"' -d '{"description": "Seen in 9 of 14 onboarding calls"}'
expect_code "PATCH /nodes/{id} with a stale If-Match" version_mismatch

request "DELETE /nodes/{id} with children" 409 -X DELETE "$BASE/nodes/$SETUP_ID"
expect_code "DELETE /nodes/{id} with children" node_has_children

# --- The open API: the README's sample data, export and import. ---

load_sample "load-sample" 0
# The README reads the tree id from the loader's first line with this sed command.
SAMPLE_ID=$(sed -n 's/^Loaded .* as tree \(tree_[0-9A-Z]*\): .*/\1/p' <<<"$LOADED")
if [[ -z $SAMPLE_ID ]]; then
  fail "load-sample" "no tree id in the output: $LOADED"
fi
if [[ $LOADED != *"nodes:    26 created"* ]]; then
  fail "load-sample" "expected 26 nodes created, got: $LOADED"
fi

load_sample "load-sample again" 0
if [[ $LOADED != *"as tree $SAMPLE_ID:"* || $LOADED != *"replayed its first response"* ]]; then
  fail "load-sample again" "expected a replay of tree $SAMPLE_ID, got: $LOADED"
fi

request "GET /trees/{id}/outline?format=markdown" 200 "$BASE/trees/$SAMPLE_ID/outline?format=markdown"
LINES=$(wc -l <"$BODY")
if [[ $LINES -ne 27 || $(head -n 1 -- "$BODY") != "# "*"($SAMPLE_ID)" ]]; then
  fail "GET /trees/{id}/outline?format=markdown" "expected a heading with $SAMPLE_ID and 27 lines, got $LINES lines: $(cat -- "$BODY")"
fi

request "GET /search?q=Malaga" 200 "$BASE/search?q=Malaga"
expect_json "GET /search?q=Malaga" 'sorted(item["type"] for item in body["items"])' "['evidence', 'node']"

request "GET /search?q=Zetteln&type=evidence" 200 "$BASE/search?q=Zetteln&type=evidence"
expect_json "GET /search?q=Zetteln&type=evidence" 'len(body["items"])' 1

request "GET /trees/{id}/gaps" 200 "$BASE/trees/$SAMPLE_ID/gaps"
expect_json "GET /trees/{id}/gaps" 'len(body["opportunities_without_support"])' 2

request "GET /trees/{id}/export" 200 "$BASE/trees/$SAMPLE_ID/export"
cp -- "$BODY" "$EXPORT"

request "POST /trees/import?dry_run=true" 200 -X POST "$BASE/trees/import?dry_run=true" -H "$JSON" \
  --data-binary "@$EXPORT"
expect_json "POST /trees/import?dry_run=true" 'body["valid"], body["evidence_reused"]' "(True, 37)"

request "POST /trees/import" 201 -X POST "$BASE/trees/import" -H "$JSON" \
  -H 'Idempotency-Key: copy-of-trial-retention' --data-binary "@$EXPORT"
IMPORTED_ID=$(field id <"$BODY")
if [[ $IMPORTED_ID == "$SAMPLE_ID" ]]; then
  fail "POST /trees/import" "expected a new tree, got the exported tree $SAMPLE_ID"
fi

request "POST /trees/import retried with the same key" 201 -X POST "$BASE/trees/import" -H "$JSON" \
  -H 'Idempotency-Key: copy-of-trial-retention' --data-binary "@$EXPORT"
expect_json "POST /trees/import retried with the same key" 'body["id"]' "$IMPORTED_ID"

BROKEN_DOCUMENT='{"format": "ost-linker/tree", "version": 1,
  "tree": {"title": "Draft"},
  "nodes": [{"ref": "goal", "parent_ref": null, "kind": "outcome", "title": " "},
            {"ref": "templates", "parent_ref": "goal", "kind": "solution", "title": "Starter templates"}]}'
request "POST /trees/import?dry_run=true with problems" 200 -X POST "$BASE/trees/import?dry_run=true" \
  -H "$JSON" -d "$BROKEN_DOCUMENT"
expect_json "POST /trees/import?dry_run=true with problems" \
  'body["valid"], [problem["code"] for problem in body["problems"]]' "(False, ['empty_value', 'invalid_parent_kind'])"

request "POST /trees/import with problems" 422 -X POST "$BASE/trees/import" -H "$JSON" -d "$BROKEN_DOCUMENT"
expect_code "POST /trees/import with problems" invalid_document
expect_json "POST /trees/import with problems" 'len(body["problems"])' 2

stop_server

# --- The gated API: the same database, restarted with a service token. ---

TOKEN=$(./scripts/gen-token.sh)
start_server gated OST_LINKER_SERVICE_TOKEN="$TOKEN"

request "gated GET /health without a token" 200 "$BASE/health"

request "gated GET /trees without a token" 401 "$BASE/trees"
expect_code "gated GET /trees without a token" missing_service_token

request "gated GET /trees with a wrong token" 401 -H "X-Service-Token: not-the-token" "$BASE/trees"
expect_code "gated GET /trees with a wrong token" invalid_service_token

request "gated GET /trees/{id}/nodes with the token" 200 -H "X-Service-Token: $TOKEN" "$BASE/trees/$TREE_ID/nodes"

load_sample "gated load-sample without a token" 1
if ! grep -q missing_service_token "$LOADER_ERRORS"; then
  fail "gated load-sample without a token" "expected missing_service_token, got: $(cat -- "$LOADER_ERRORS")"
fi

# The sample was loaded before the restart, so the service replays that response.
load_sample "gated load-sample with the token" 0 OST_LINKER_SERVICE_TOKEN="$TOKEN"
if [[ $LOADED != *"as tree $SAMPLE_ID:"* ]]; then
  fail "gated load-sample with the token" "expected a replay of tree $SAMPLE_ID, got: $LOADED"
fi

# A fingerprint is the first 8 hex digits of the token's SHA-256 digest.
FINGERPRINT=$(printf '%s' "$TOKEN" | python3 -c 'import hashlib, sys; print(hashlib.sha256(sys.stdin.buffer.read()).hexdigest()[:8])')
if ! grep -q "fingerprint $FINGERPRINT" "$SERVER_LOG"; then
  fail "gated start-up log" "no line with the token's fingerprint $FINGERPRINT"
fi
if grep -qF -- "$TOKEN" "$SERVER_LOG"; then
  fail "gated start-up log" "the log contains the token itself"
fi
echo "ok   gated start-up log: fingerprint $FINGERPRINT, no token"

stop_server
echo "smoke test passed"
