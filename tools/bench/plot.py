#!/usr/bin/python3
"""Plots `bulwark bench --json` results for docs/performance.md.

    plot.py RESULTS.jsonl OUT_DIR [--format svg|png]

RESULTS.jsonl holds one JSON object a line, one per run, with at least "scenario", "frame_size"
(wire size in bytes incl. FCS, or "imix"), "flows", "rules", "mpps", "baseline_mpps", "ratio" and
"cycles_per_packet" ("label", which `bulwark bench --label` sets, stands in for a missing
"scenario"); other keys are ignored, blank lines too. Writes into OUT_DIR:

    mpps-frame-size.svg  Mpps against frame size (imix last)
    mpps-flows.svg       Mpps against flow count
    mpps-rules.svg       Mpps against rule count

On each plot a series is one scenario with the other two parameters fixed (named in the legend
when they differ between series); a solid line is the measured Mpps, the dashed line of the same
colour the runs' baseline_mpps (one grey dashed line when several series share it). Frame sizes
are evenly spaced categories, imix a point of its own after them. Series with a single value on the plot's axis are left out, and
the plot is skipped when no series is left. Repeated runs of one point are averaged, their
spread shown as an error bar. Counts spanning two decades or more get a logarithmic axis.

Deterministic output: no date in the metadata, fixed SVG ids. Prints the files it wrote.
Needs matplotlib (Debian: apt-get install python3-matplotlib); run with /usr/bin/python3.
"""
import argparse
import json
import os
import sys
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.ticker import FuncFormatter  # noqa: E402

REQUIRED = ("scenario", "frame_size", "flows", "rules", "mpps", "baseline_mpps", "ratio",
            "cycles_per_packet")
AXES = {  # key: (file name, axis label, title)
    "frame_size": ("mpps-frame-size", "Frame size (bytes on the wire, incl. FCS)",
                   "Throughput against frame size"),
    "flows": ("mpps-flows", "Flows", "Throughput against flow count"),
    "rules": ("mpps-rules", "Filter rules", "Throughput against rule count"),
}
PARAM_NAMES = {"frame_size": lambda v: "imix" if v == "imix" else f"{v} B",
               "flows": lambda v: f"{count_label(v)} flow{'s' if v != 1 else ''}",
               "rules": lambda v: f"{count_label(v)} rule{'s' if v != 1 else ''}"}


def load(path):
    runs = []
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                run = json.loads(line)
            except ValueError as e:
                sys.exit(f"{path}:{n}: not JSON: {e}")
            if "scenario" not in run and "label" in run:  # bench's own name for a run
                run["scenario"] = run["label"]
            missing = [k for k in REQUIRED if k not in run]
            if missing:
                sys.exit(f"{path}:{n}: missing {', '.join(missing)}")
            fs = run["frame_size"]
            if not (fs == "imix" or (isinstance(fs, int) and not isinstance(fs, bool))):
                sys.exit(f"{path}:{n}: frame_size must be an integer or \"imix\"")
            runs.append(run)
    return runs


def sort_key(value):
    """Orders frame sizes numerically with imix after them."""
    return (1, 0) if value == "imix" else (0, value)


def segments(xs):
    """Index runs of xs to join with lines: imix (last, as sorted) stands alone."""
    numeric = [i for i, x in enumerate(xs) if x != "imix"]
    return ([numeric] if numeric else []) + [[i] for i, x in enumerate(xs) if x == "imix"]


def count_label(value, _pos=None):
    """1, 10, 100, 1k, 10k, 100k, 1M for count axes."""
    for div, suffix in ((1_000_000, "M"), (1000, "k")):
        if value >= div:
            return f"{value / div:g}{suffix}"
    return f"{value:g}"


def plot_axis(runs, axis, out_dir, fmt):
    others = [k for k in AXES if k != axis]
    # series (scenario, other parameters) -> x -> [(mpps, baseline)]
    series = defaultdict(lambda: defaultdict(list))
    for r in runs:
        key = (str(r["scenario"]),) + tuple(r[k] for k in others)
        series[key][r[axis]].append((float(r["mpps"]), float(r["baseline_mpps"])))
    series = {k: v for k, v in series.items() if len(v) > 1}
    if not series:
        return None
    keys = sorted(series, key=lambda k: (k[0],) + tuple(sort_key(v) for v in k[1:]))
    # Legend names: the scenario, plus the fixed parameters that differ between series.
    varying = [i for i, k in enumerate(others) if len({key[i + 1] for key in keys}) > 1]

    def name(key):
        extra = [PARAM_NAMES[others[i]](key[i + 1]) for i in varying]
        return key[0] + (f" ({', '.join(extra)})" if extra else "")

    xs_all = sorted({x for s in series.values() for x in s}, key=sort_key)
    categorical = axis == "frame_size"
    position = {x: i for i, x in enumerate(xs_all)} if categorical else None

    fig, ax = plt.subplots(figsize=(7, 4.2))
    colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
    baselines = defaultdict(list)  # baseline curve -> colours of the series sharing it
    for n, key in enumerate(keys):
        points = series[key]
        xs = sorted(points, key=sort_key)
        color = colors[n % len(colors)]
        measured = [[p[0] for p in points[x]] for x in xs]
        mean = [sum(v) / len(v) for v in measured]
        base = [sum(p[1] for p in points[x]) / len(points[x]) for x in xs]
        px = [position[x] for x in xs] if categorical else xs
        for seg in segments(xs):  # imix is not on the size scale: a point of its own
            ax.plot([px[i] for i in seg], [mean[i] for i in seg], linestyle="-", marker="o",
                    markersize=4, color=color, label=name(key) if seg[0] == 0 else None)
        if any(len(v) > 1 for v in measured):
            err = [[m - min(v) for m, v in zip(mean, measured)],
                   [max(v) - m for m, v in zip(mean, measured)]]
            ax.errorbar(px, mean, yerr=err, fmt="none", ecolor=color, capsize=3, linewidth=1)
        baselines[(tuple(px), tuple(base))].append(color)
    for (px, base), shared in baselines.items():
        # A baseline several series share (same runs' baseline) is drawn once, in grey.
        color = shared[0] if len(shared) == 1 else "grey"
        for seg in segments([xs_all[int(x)] for x in px] if categorical else px):
            ax.plot([px[i] for i in seg], [base[i] for i in seg], linestyle="--", color=color,
                    marker="_" if len(seg) == 1 else None, markersize=10, zorder=1)

    if categorical:
        ax.set_xticks(range(len(xs_all)))
        ax.set_xticklabels([str(x) for x in xs_all])
    else:
        lo, hi = min(xs_all), max(xs_all)
        if lo > 0 and hi / lo >= 100:
            ax.set_xscale("log")
        elif lo <= 0 and hi >= 100:
            ax.set_xscale("symlog", linthresh=1, linscale=0.5)
        ax.xaxis.set_major_formatter(FuncFormatter(count_label))
    ax.set_xlabel(AXES[axis][1])
    ax.set_ylabel("Mpps")
    ax.set_ylim(bottom=0)
    ax.set_title(AXES[axis][2])
    ax.grid(True, which="major", alpha=0.3)
    handles, labels = ax.get_legend_handles_labels()
    handles += [Line2D([], [], color="black", linestyle="-", marker="o", markersize=4),
                Line2D([], [], color="black", linestyle="--")]
    labels += ["measured", "baseline"]
    ax.legend(handles, labels, fontsize="small", loc="best")
    fig.tight_layout()
    path = os.path.join(out_dir, f"{AXES[axis][0]}.{fmt}")
    fig.savefig(path, format=fmt, metadata={"Date": None} if fmt == "svg" else {"Software": None})
    plt.close(fig)
    return path


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("results", help="JSON-lines file of `bulwark bench --json` results")
    ap.add_argument("out_dir", help="directory for the plots (created if missing)")
    ap.add_argument("--format", choices=("svg", "png"), default="svg")
    args = ap.parse_args(argv)
    runs = load(args.results)
    if not runs:
        sys.exit(f"{args.results}: no results")
    os.makedirs(args.out_dir, exist_ok=True)
    plt.rcParams["svg.hashsalt"] = "bulwark"  # fixed ids for clip paths and glyphs
    plt.rcParams["path.simplify"] = True
    for axis in AXES:
        path = plot_axis(runs, axis, args.out_dir, args.format)
        if path:
            print(path)
        else:
            print(f"{AXES[axis][0]}: skipped (no variation in {axis})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
