#!/usr/bin/python3
"""Prints the result tables of docs/performance.md (markdown) from a results.jsonl written by
tools/bench/run.sh: one row per run, and the cycles per packet of each pipeline stage.
Usage: table.py RESULTS.jsonl"""
import json
import sys


def main(path):
    runs = [json.loads(line) for line in open(path) if line.strip()]
    print("| run | Mpps | baseline Mpps | ratio | cycles/packet | Gbit/s | connections | drops | reloads |")
    print("|---|---:|---:|---:|---:|---:|---:|---|---:|")
    for r in runs:
        drops = ", ".join(f"{k} {v}" for k, v in sorted(r.get("dropped", {}).items())) or "0"
        print(f"| {r['label']} | {r['mpps']:.2f} | {r['baseline_mpps']:.2f} | {r['ratio']:.2f} | "
              f"{r['cycles_per_packet']:.0f} | {r['gbps']:.2f} | {r['connections']} | {drops} | {r['reloads']} |")
    print()
    stages = ["ethernet", "ipv4", "route", "transmit"]
    print("| run | " + " | ".join(stages) + " |")
    print("|---|" + "---:|" * len(stages))
    for r in runs:
        cycles = r.get("stage_cycles_per_packet", {})
        print(f"| {r['label']} | " + " | ".join(f"{cycles.get(s, 0):.0f}" for s in stages) + " |")


if __name__ == "__main__":
    main(sys.argv[1])
