#!/usr/bin/env bash
# README command 2 (and CI): set up, build, run every test suite, and end with the plain
# summary line "N passed, N failed" (Catch2 test cases count one by one).
set -uo pipefail
cd "$(dirname "$0")/.."
tools/setup.sh || { echo "0 passed, 1 failed"; exit 1; }
meson test -C build --print-errorlogs --num-processes 2
status=$?
/usr/bin/python3 tools/test_summary.py build/meson-logs/testlog.json || status=1
exit $status
