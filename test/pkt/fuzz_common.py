"""What the fuzzers share: hostile frames go into one capture, through `bulwark replay`, and the
replay must finish and account for every frame (in = forwarded + punted + consumed + dropped;
out = forwarded + generated) besides the fuzzer's own checks."""
import json
import os
import struct
import subprocess
import sys
import tempfile


def run(bulwark, frames, interface, extra_args, checks_of):
    """Replays `frames` into `interface`; `checks_of(counters)` gives the fuzzer's own checks
    ({name: ok}). Prints every check and the summary line, and exits with the result."""
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "in.pcap")
        with open(path, "wb") as out:
            out.write(struct.pack("<IHHiIII", 0xa1b2c3d4, 2, 4, 0, 0, 65535, 1))
            for i, f in enumerate(frames):
                out.write(struct.pack("<IIII", 1000 + i // 1000, (i % 1000) * 1000, len(f), len(f)))
                out.write(f)
        result = subprocess.run([bulwark, "replay", *extra_args, "--in", f"{interface}={path}", "--out-dir",
                                 os.path.join(tmp, "out"), "--json"],
                                capture_output=True, text=True, timeout=100)
    if result.returncode != 0:
        print(result.stdout, result.stderr)
        print("0 passed, 1 failed")
        sys.exit(1)
    d = json.loads(result.stdout)
    dropped = sum(d["dropped"].values())
    checks = {
        "every frame read": d["in"] == len(frames),
        "in = forwarded + punted + consumed + dropped":
            d["in"] == d["forwarded"] + d["punted"] + d["consumed"] + dropped,
        "out = forwarded + generated": d["out"] == d["forwarded"] + d["generated"],
    }
    checks.update(checks_of(d))
    for name, ok in checks.items():
        print(("ok: " if ok else "FAIL: ") + name)
    print(json.dumps(d["dropped"], sort_keys=True))
    failed = sum(not ok for ok in checks.values())
    print(f"{len(checks) - failed} passed, {failed} failed")
    sys.exit(1 if failed else 0)
