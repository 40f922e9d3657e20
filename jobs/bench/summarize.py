#!/usr/bin/env python3
"""Turns the RESULT lines written by jobs/bench/compare.sh into the comparison table.

    python3 jobs/bench/summarize.py runs/bench/results.txt [--markdown]

Each input line is `<case>|<side>|<setting> RESULT key=value ...` (side: dtrain or
torch). Per (case, side, setting) the median over repetitions is taken; per case and
side the setting with the best median samples/s is the one compared (every setting
tried is listed below the table). Lines that are not of that form are ignored.
"""
import argparse
import statistics
import sys
from collections import OrderedDict, defaultdict

# case id -> (what is compared, cores)
CASES = OrderedDict([
    ("mlp1", "MLP 784-512-256-10, batch 128, 1 core"),
    ("mlp2", "MLP, batch 128, 2 cores, one process"),
    ("mlp2dp", "MLP, batch 128, 2 processes x 1 thread (dtrain MPI / torch DDP gloo)"),
    ("mlp2dp256", "MLP, global batch 256, 2 processes x 1 thread (dtrain MPI / torch DDP gloo)"),
    ("mlp2best", "MLP, batch 128, 2 cores, best of each system"),
    ("cnn2", "CNN, batch 128, 2 cores, best of each system"),
])

FLOP_PER_SAMPLE = 2.0 * (3.0 * (784 * 512 + 512 * 256 + 256 * 10) - 784 * 512)  # MLP, per sample
DESIGN_PEAK_PER_CORE = 200e9   # FMA peak in issue 8 / DESIGN.md, used when none was measured
CEILING = {1: 52.9e3, 2: 91.9e3}  # GEMM-only (Eigen) samples/s on 1 and 2 cores (DESIGN.md)


def measured_peak(runs):
    """The FMA peak per core that compare.sh measured (dense_bench BM_FmaPeak), or None."""
    rows = runs.pop(("fma", "machine", "1 core"), [])
    return med(rows, "fma_gflops") * 1e9 if rows else None


def parse(path):
    runs = defaultdict(list)  # (case, side, setting) -> [dict]
    with open(path) as f:
        for line in f:
            head, sep, rest = line.partition(" RESULT ")
            if not sep or head.count("|") != 2:
                continue
            case, side, setting = head.split("|")
            fields = dict(kv.split("=", 1) for kv in rest.split() if "=" in kv)
            runs[(case, side, setting)].append(fields)
    return runs


def med(rows, key):
    vals = [float(r[key]) for r in rows if key in r]
    return statistics.median(vals) if vals else None


def best(runs, case, side):
    cands = [(med(rows, "samples_per_s"), setting, rows) for (c, s, setting), rows in runs.items()
             if c == case and s == side]
    cands = [c for c in cands if c[0] is not None]
    return max(cands, key=lambda c: c[0]) if cands else None


def fmt(x, digits=0):
    return "—" if x is None else f"{x:,.{digits}f}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("results")
    ap.add_argument("--markdown", action="store_true")
    a = ap.parse_args()
    runs = parse(a.results)
    peak = measured_peak(runs)
    peak_source = "measured here" if peak else "DESIGN.md's figure"
    peak = peak or DESIGN_PEAK_PER_CORE
    # The "best of each on 2 cores" row draws from every 2-core MLP setting.
    for (case, side, setting), rows in list(runs.items()):
        if case in ("mlp2", "mlp2dp"):
            runs[("mlp2best", side, setting)] = rows

    head = ["case", "dtrain samples/s", "dtrain setting", "torch samples/s", "torch setting (its best)",
            "dtrain/torch", "peak RSS MiB d/t", "first step s d/t"]
    table, flops_lines = [], []
    for case, title in CASES.items():
        d, t = best(runs, case, "dtrain"), best(runs, case, "torch")
        if not d and not t:
            continue
        ratio = d[0] / t[0] if d and t else None
        rss = f"{fmt(med(d[2], 'peak_rss_mib') if d else None)} / {fmt(med(t[2], 'peak_rss_mib') if t else None)}"
        first = (f"{fmt(med(d[2], 'first_step_s') if d else None, 2)} / "
                 f"{fmt(med(t[2], 'first_step_s') if t else None, 2)}")
        table.append([title, fmt(d[0]) if d else "—", d[1] if d else "", fmt(t[0]) if t else "—", t[1] if t else "",
                      "—" if ratio is None else f"{ratio:.2f}x", rss, first])
        if d and case in ("mlp1", "mlp2", "mlp2dp", "mlp2best"):
            cores = 1 if case == "mlp1" else 2
            flops = d[0] * FLOP_PER_SAMPLE
            at_peak = peak * cores / FLOP_PER_SAMPLE  # samples/s if every cycle were an FMA
            flops_lines.append(f"  {title}: dtrain {flops / 1e9:.0f} GFLOP/s = {100 * flops / (peak * cores):.0f}% "
                               f"of the FMA peak ({peak * cores / 1e9:.0f} GFLOP/s, {peak_source}; "
                               f"{at_peak:,.0f} samples/s at 100%), "
                               f"{100 * d[0] / CEILING[cores]:.0f}% of DESIGN.md's Eigen GEMM-only ceiling "
                               f"({CEILING[cores]:,.0f} samples/s)")

    if a.markdown:
        print("| " + " | ".join(head) + " |")
        print("|" + "---|" * len(head))
        for row in table:
            print("| " + " | ".join(row) + " |")
    else:
        widths = [max(len(str(r[i])) for r in table + [head]) for i in range(len(head))]
        for row in [head] + table:
            print("  ".join(str(c).ljust(w) for c, w in zip(row, widths)))
    print()
    print(f"MLP step = {FLOP_PER_SAMPLE * 128 / 1e6:.0f} MFLOP of GEMMs at batch 128 ({FLOP_PER_SAMPLE / 1e6:.3f} MFLOP per sample):")
    print("\n".join(flops_lines))

    print()
    print("Every setting (median over repetitions; samples/s, n = repetitions):")
    for (case, side, setting), rows in sorted(runs.items()):
        if case == "mlp2best":
            continue
        vals = sorted(float(r["samples_per_s"]) for r in rows if "samples_per_s" in r)
        extra = ""
        acc = [r["test_accuracy"] for r in rows if "test_accuracy" in r]
        if acc:
            extra = f"  test_accuracy={acc[0]} after {rows[0].get('epochs')} epochs"
        print(f"  {case:10s} {side:6s} {setting:38s} median {fmt(statistics.median(vals) if vals else None):>8s}"
              f"  all {', '.join(f'{v:.0f}' for v in vals)}{extra}")
    acc_rows = [(k, r) for k, rows in runs.items() for r in rows if "test_accuracy" in r and k[0] != "mlp2best"]
    if acc_rows:
        print()
        print("Test accuracy after the same epochs:")
        for (case, side, setting), r in sorted(acc_rows):
            print(f"  {case:10s} {side:6s} {setting:38s} epochs={r.get('epochs')} accuracy={float(r['test_accuracy']):.4f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
