#!/usr/bin/env python3
"""Reads meson's testlog.json and prints 'N passed, N failed' as the last line.

A test binary that reports Catch2 totals ('test cases: 48 | 47 passed | 1 failed' or
'All tests passed (… in 48 test cases)') counts with its test cases, a test script that ends with
its own 'N passed, N failed' line counts with its checks; any other test counts once.
Exits 1 when anything failed or nothing ran.
"""
import json
import re
import sys

passed = failed = 0
with open(sys.argv[1], encoding="utf-8") as log:
    for line in log:
        test = json.loads(line)
        out = test.get("stdout") or ""
        ok = test.get("result") in ("OK", "EXPECTEDFAIL")
        skipped = test.get("result") == "SKIP"
        all_ok = re.search(r"All tests passed \(\d+ assertions? in (\d+) test cases?\)", out)
        mixed = re.search(r"test cases:\s+(\d+) \|\s+(\d+) passed \|\s+(\d+) failed", out)
        script = re.findall(r"^(\d+) passed, (\d+) failed$", out, re.M)
        if all_ok and ok:
            passed += int(all_ok.group(1))
        elif mixed:
            passed += int(mixed.group(2))
            failed += max(int(mixed.group(3)), 0 if ok else 1)
        elif script:
            p, f = map(int, script[-1])
            passed += p
            failed += max(f, 0 if ok else 1)
        elif skipped:
            continue
        elif ok:
            passed += 1
        else:
            failed += 1
        print(f"  {test.get('name')}: {test.get('result')}")

print(f"{passed} passed, {failed} failed")
sys.exit(1 if failed or passed == 0 else 0)
