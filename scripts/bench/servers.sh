# Starting and stopping ost-linker servers for the benchmark scripts, which source this file.
#
# The caller defines DATABASE, WORK_DIR, STARTUP_TIMEOUT_SECONDS, the associative arrays PID
# and ADDR, the array NAMES (for start_spec), and a function `fail MESSAGE` that exits.

# Stops every server started with start_server and removes WORK_DIR. Meant for `trap ... EXIT`.
cleanup() {
  local name
  for name in "${!PID[@]}"; do
    kill "${PID[$name]}" 2>/dev/null || true
    wait "${PID[$name]}" 2>/dev/null || true
  done
  rm -rf -- "$WORK_DIR"
}

# Starts server NAME pinned to CPU 0 with the extra variables NAME=VALUE... and waits for its
# address. Usage: start_server NAME COMMAND VARIABLE...
start_server() {
  local name=$1 command=$2
  shift 2
  local log="$WORK_DIR/$name.log"
  # At warn, the binary still logs its own info lines, so the address line shows.
  env OST_LINKER_BIND=127.0.0.1:0 OST_LINKER_DATABASE="$DATABASE" RUST_LOG=warn,ost_linker=info "$@" \
    taskset -c 0 "$command" >"$log" 2>&1 &
  PID[$name]=$!
  local waited=0 address=""
  while [[ -z $address ]]; do
    address=$(grep -o 'listening on [0-9.:]*' "$log" | head -n1 | cut -d' ' -f3 || true)
    if [[ -z $address ]]; then
      kill -0 "${PID[$name]}" 2>/dev/null || fail "server $name exited: $(cat -- "$log")"
      ((waited++ < STARTUP_TIMEOUT_SECONDS * 10)) || fail "server $name did not start"
      sleep 0.1
    fi
  done
  ADDR[$name]=$address
  echo "server $name (pid ${PID[$name]}) on $address"
}

# Starts the server of one --server value, NAME=BINARY[:VARIABLE=VALUE], and appends NAME
# to NAMES.
start_spec() {
  local spec=$1
  local name=${spec%%=*} rest=${spec#*=}
  local binary=${rest%%:*} variables=()
  [[ $rest == *:* ]] && variables=("${rest#*:}")
  [[ -z ${PID[$name]:-} ]] || fail "server name $name is given twice; give each --server its own name"
  [[ -x $binary ]] || fail "server $name: $binary is not an executable file"

  start_server "$name" "$binary" "${variables[@]}"
  NAMES+=("$name")
}
