#!/usr/bin/env bash
# README command 1: set up, build, and replay the bundled sample captures through the built-in
# default configuration with the real dataplane pipeline. Prints the counters and where the
# output captures are (out/demo/).
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >/dev/null
mkdir -p out/demo
echo "== the built-in default configuration, compiled"
build/tools/bulwark check
echo
echo "== replaying tools/pcap/samples/{internal,external}.pcap through it"
exec build/tools/bulwark replay \
  --in internal=tools/pcap/samples/internal.pcap \
  --in external=tools/pcap/samples/external.pcap \
  --out-dir out/demo "$@"
