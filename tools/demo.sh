#!/usr/bin/env bash
# README command 1: set up, build, and run the main job on the built-in default configuration.
# Until the dataplane exists, the main job is `bulwark check --dump` of the factory configuration:
# it validates it and prints the compiled tables.
set -euo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh >/dev/null
exec build/tools/bulwark check --dump "$@"
