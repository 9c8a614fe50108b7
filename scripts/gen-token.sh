#!/usr/bin/env bash
# Prints a new random service token: 64 hex digits, 256 bits from the operating system's random
# source. It runs `ost-linker gen-token` through cargo, which builds the binary first if needed.
set -euo pipefail

cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.."
exec cargo run -q -p ost-linker-api --bin ost-linker -- gen-token
