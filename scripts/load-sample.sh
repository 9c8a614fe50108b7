#!/usr/bin/env bash
# Loads a sample data file into a running ost-linker service. It runs `ost-linker load-sample`
# through cargo, which builds the binary first if needed.
#
# Usage: scripts/load-sample.sh [FILE] [URL]
#   FILE  sample data file [default: samples/trial-retention.json of this repository];
#         an empty FILE also means the default, so that a URL can follow
#   URL   base URL of the service [default: http://127.0.0.1:8080]
#
# OST_LINKER_SERVICE_TOKEN, when set, is sent as the X-Service-Token header. Running the
# script again with the same file replays the first import instead of creating a second tree.
set -euo pipefail

ROOT=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
readonly ROOT

if [[ ${1:-} == "-h" || ${1:-} == "--help" || $# -gt 2 ]]; then
  echo "Usage: scripts/load-sample.sh [FILE] [URL]" >&2
  exit 2
fi

file=${1:-$ROOT/samples/trial-retention.json}
[[ $file == /* ]] || file="$PWD/$file"
args=(load-sample "$file")
if [[ $# -eq 2 ]]; then
  args+=(--url "$2")
fi

# Cargo reads the workspace's .cargo/config.toml, which configures the SQLite build, only
# when it runs inside the repository.
cd -- "$ROOT"
exec cargo run -q -p ost-linker-api --bin ost-linker -- "${args[@]}"
