#!/usr/bin/env python3
"""Writes docs/BENCHMARKS.md (to standard output) from a directory of scripts/bench-compare results:
machine.env, legible-r<round>-<unit>.json, torch-r<round>-<unit>.json and scaling-<side>-t<threads>.json,
each a list of rows in the schema of Sources/Benchmarks/BenchmarkResult.swift. Standard library only.

Usage: bench_report.py RESULTS_DIR [--keep docs/BENCHMARKS.md] > docs/BENCHMARKS.md

--keep carries over the page's hand-measured sections: everything from its first "## " heading up to "## Machine and
method", where the generated part begins. scripts/bench-compare passes the page it is about to replace.
"""
import glob
import json
import os
import statistics
import sys
from collections import defaultdict

WORKLOADS = [
    ("gpt2-124m/forward", "GPT-2 124M forward, LM head at every position"),
    ("gpt2-124m/frozen-step", "GPT-2 124M frozen-weight step: forward, cross-entropy over the full vocabulary at every position, backward to the input embeddings"),
    ("gpt2-124m/full-step", "GPT-2 124M full step: the same with weight gradients"),
    ("gemma3-270m/classify", "Gemma 3 270M classification of 32 SST-2 test sentences"),
    ("gemma3-270m/pez-step", "One PEZ step on 16 SST-2 sentences, 10-token prompt"),
    ("gemma3-270m/rlprompt-step", "One RLPrompt step: 16 sampled prompts of 5 tokens rewarded on 16 sentences"),
    ("gemma3-270m/gcg-step", "One GCG step: the one-hot gradient, then 64 candidates scored on 16 sentences"),
    ("gemma3-270m/evaluate-600", "The test evaluation `tune` ends with: 600 SST-2 sentences, five passes"),
    ("gemma3-270m/generate-128", "128 greedy tokens after the first SST-2 sentence"),
]


def load_env(directory):
    env = {}
    with open(os.path.join(directory, "machine.env"), encoding="utf-8") as f:
        for line in f:
            if "=" in line:
                key, value = line.rstrip("\n").split("=", 1)
                env[key] = value
    return env


def load_rows(pattern):
    rows = []
    for path in sorted(glob.glob(pattern)):
        with open(path, encoding="utf-8") as f:
            try:
                rows += json.load(f)
            except json.JSONDecodeError:
                print(f"bench_report: skipping unreadable {path}", file=sys.stderr)
    return rows


def key(row):
    return (row["workload"], row["B"], row["T"], row.get("gemm"))


def aggregate(rows):
    """Median over rounds of every numeric field; also the spread of the round medians."""
    groups = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    out = {}
    for k, group in groups.items():
        merged = dict(group[0])
        for field in ("median_s", "gflops", "peak_rss_mb", "blas_share", "examples_per_s"):
            values = [r[field] for r in group if r.get(field) is not None]
            merged[field] = statistics.median(values) if values else None
        times = [r["median_s"] for r in group]
        merged["spread"] = (min(times), max(times))
        merged["rounds"] = len(group)
        out[k] = merged
    return out


def fmt(value, pattern, missing="—"):
    return missing if value is None else pattern.format(value)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" if i == 0 else "---:" for i in range(len(header))) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return "\n".join(lines)


MACHINE_HEADING = "## Machine and method"


def kept_sections(path):
    """The hand-measured sections of an earlier page: from its first "## " heading to the generated part."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = f.read().split("\n")
    except OSError:
        return ""
    first = next((i for i, line in enumerate(lines) if line.startswith("## ")), None)
    end = next((i for i, line in enumerate(lines) if line.startswith(MACHINE_HEADING)), len(lines))
    if first is None or first >= end:
        return ""
    return "\n".join(lines[first:end]).rstrip() + "\n"


def main():
    keep = None
    if len(sys.argv) == 4 and sys.argv[2] == "--keep":
        keep = sys.argv[3]
        del sys.argv[2:]
    if len(sys.argv) != 2:
        sys.exit(__doc__)
    directory = sys.argv[1]
    env = load_env(directory)
    ours = aggregate(load_rows(os.path.join(directory, "legible-r*.json")))
    theirs = aggregate(load_rows(os.path.join(directory, "torch-r*.json")))
    scaling = {}
    for path in glob.glob(os.path.join(directory, "scaling-*-t*.json")):
        side, threads = os.path.basename(path)[len("scaling-"):-len(".json")].rsplit("-t", 1)
        for row in load_rows(path):
            scaling[(side, int(threads), row["T"])] = row
    any_ours = next(iter(ours.values()), {})
    any_theirs = next(iter(theirs.values()), {})

    out = []
    out.append("# Benchmarks\n")
    out.append("Legible's native GPT-2 and Gemma 3 passes against PyTorch on the same CPU, same thread count. "
               "Written by `scripts/bench-compare` (Legible: `legible bench`, code in `Sources/Benchmarks/`; "
               "PyTorch: `scripts/bench_torch.py`); rerun it to refresh this page.\n")
    if env.get("note"):
        out.append(f"**{env['note']}**\n")
    try:
        busiest = max(float(env[k].split()[0]) for k in ("loadavg_start", "loadavg_end") if env.get(k))
        if busiest > float(env.get("cpus", "0")):
            out.append(f"The 1-minute load average reached {busiest:.1f} on {env.get('cpus')} CPUs: other processes "
                       "competed for the cores during the run, so every figure is lower than on an idle machine, the "
                       "spread between rounds is wide, and figures taken with more threads suffer most (a thread "
                       "that waits for a core stalls the whole GEMM).\n")
    except (KeyError, ValueError):
        pass

    memory_gb = int(env.get("memory_kb", "0") or 0) / 1024 / 1024
    coretype = (f"set to `{env.get('coretype_value')}` in the calling environment" if env.get("coretype_was_set") == "1"
                else "not set in the calling environment")
    mode = ("kept as given (`--as-given`)" if env.get("as_given") == "1"
            else "removed for both sides (`env -u OPENBLAS_CORETYPE`), so OpenBLAS picked its kernels from the CPU")
    if keep:
        kept = kept_sections(keep)
        if kept:
            out.append(kept)
    out.append(MACHINE_HEADING + "\n")
    out.append("\n".join([
        f"- Date: {env.get('date')}, commit `{env.get('commit')}`; the run took about {env.get('minutes', '?')} minutes.",
        f"- CPU: {env.get('cpu')}, {env.get('cpus')} logical CPUs; memory {memory_gb:.1f} GiB.",
        f"- Load average (1, 5, 15 min) at start {env.get('loadavg_start')}, at end {env.get('loadavg_end')}.",
        f"- Legible: OpenBLAS core `{any_ours.get('blas_core', '?')}`; `OPENBLAS_CORETYPE` was {coretype} and {mode}.",
        f"- PyTorch: {env.get('torch')} (`{any_theirs.get('blas_core', '?')}`), float32, eager mode.",
        f"- Threads: {env.get('threads')} on both sides (OpenBLAS threads; `torch.set_num_threads`). Legible's "
        "elementwise kernels are single-threaded; only its GEMMs use the threads.",
        f"- {env.get('rounds')} rounds; in each, a fresh process per shape and side runs every workload "
        f"{env.get('warmup')} time(s) untimed, then {env.get('repeats')} time(s) timed; the sides alternate which goes "
        "first. Tables give the median over rounds (and the range of the round medians).",
        "- GFLOP/s counts GEMM work analytically, 2·M·N·K per GEMM, with the same formulas on both sides "
        "(`Sources/Benchmarks/GPT2Cost.swift`); elementwise work is not counted. For Gemma it counts the work "
        "Legible does (head at the last token on two rows), so PyTorch's full-vocabulary head is not credited.",
        "- BLAS share: the workload's GFLOP/s ÷ the FLOP-weighted rate of the side's own GEMM (OpenBLAS `sgemm`, "
        "`torch.mm`) alone on the workload's four linear shapes and LM-head shape, measured in the same process "
        "right after the workloads. The workload's count includes attention's GEMMs, which the yardstick does not "
        "time; and on a shared machine the load can change between the two measurements, so a share can exceed 100%.",
        "- Peak memory: `VmHWM` of the process, reset before each workload through `/proc/self/clear_refs`; it "
        "includes the weights and whatever the workload needs.",
    ]) + "\n")

    out.append("## Workloads\n")
    for name, title in WORKLOADS:
        keys = sorted({k for k in list(ours) + list(theirs) if k[0] == name}, key=lambda k: (k[1] * k[2], k[1]))
        if not keys:
            continue
        out.append(f"### `{name}`\n\n{title}.\n")
        rows = []
        for k in keys:
            a, b = ours.get(k), theirs.get(k)
            ratio = b["median_s"] / a["median_s"] if a and b else None
            rows.append([
                f"B={k[1]}, T={k[2]}",
                fmt(a and a["median_s"], "{:.3f}") + (f" ({a['spread'][0]:.3f}–{a['spread'][1]:.3f})" if a else ""),
                fmt(b and b["median_s"], "{:.3f}") + (f" ({b['spread'][0]:.3f}–{b['spread'][1]:.3f})" if b else ""),
                fmt(ratio, "{:.2f}×"),
                fmt(a and a["gflops"], "{:.1f}"), fmt(b and b["gflops"], "{:.1f}"),
                fmt(a and a.get("blas_share"), "{:.0%}"), fmt(b and b.get("blas_share"), "{:.0%}"),
                fmt(a and a.get("examples_per_s"), "{:.2f}"), fmt(b and b.get("examples_per_s"), "{:.2f}"),
                fmt(a and a.get("peak_rss_mb"), "{:.0f}"), fmt(b and b.get("peak_rss_mb"), "{:.0f}"),
            ])
        out.append(table(["shape", "Legible s", "PyTorch s", "speed-up (PyTorch s ÷ Legible s)", "Legible GFLOP/s",
                          "PyTorch GFLOP/s", "Legible BLAS share", "PyTorch BLAS share", "Legible ex/s", "PyTorch ex/s",
                          "Legible peak MB", "PyTorch peak MB"], rows) + "\n")
        notes = {(side, r.get("note")) for side, table_ in (("Legible", ours), ("PyTorch", theirs))
                 for kk, r in table_.items() if kk in keys and r.get("note")}
        for side, note in sorted(notes):
            out.append(f"- {side}: {note}")
        if notes:
            out.append("")

    order = ["qkv", "attn-proj", "fc", "fc-proj", "lm-head", "gpt2-124m mix"]
    sgemm_keys = sorted({k for k in list(ours) + list(theirs) if k[0] == "sgemm"},
                        key=lambda k: (k[1] * k[2], order.index((k[3] or "").split(" (")[0]) if (k[3] or "").split(" (")[0] in order else 9))
    if sgemm_keys:
        out.append("### GEMM alone at the GPT-2 shapes\n")
        out.append("The yardstick for the BLAS share: OpenBLAS `cblas_sgemm` (Legible) and `torch.mm` (PyTorch) on "
                   "scratch matrices, row-major, C = A·B (the LM head: A·Bᵀ). \"gpt2-124m mix\" is the FLOP-weighted "
                   "rate over one forward's GEMMs (12 × each linear shape + the head).\n")
        rows = []
        for k in sgemm_keys:
            a, b = ours.get(k), theirs.get(k)
            size = next((f"{r['m']}×{r['n']}×{r['k']}" for r in (a, b) if r and r.get("m")), "")
            rows.append([f"B={k[1]}, T={k[2]}", k[3] or "", size,
                         fmt(a and a["gflops"], "{:.1f}"), fmt(b and b["gflops"], "{:.1f}"),
                         fmt(a and b and b["median_s"] / a["median_s"], "{:.2f}×")])
        out.append(table(["shape", "GEMM", "M×N×K", "OpenBLAS GFLOP/s", "torch.mm GFLOP/s", "speed-up"], rows) + "\n")

    if scaling:
        threads = sorted({t for _, t, _ in scaling})
        lengths = sorted({T for _, _, T in scaling})
        batch = next(iter(scaling.values()))["B"]
        out.append("## Scaling of the frozen step\n")
        out.append(f"`gpt2-124m/frozen-step` at B = {batch} (one sequence, as a prompt tuner with a long "
                   "context runs it) for T from 64 to 1024, with 1 and 2 threads. One process per side and thread "
                   "count, lengths in rising order, 1 warm-up and 1 timed run each, one round only: "
                   "noisier than the tables above.\n")
        header = ["T"]
        for side in ("legible", "torch"):
            for t in threads:
                header.append(f"{'Legible' if side == 'legible' else 'PyTorch'} s, {t} thread{'s' if t > 1 else ''}")
        for t in threads:
            header.append(f"speed-up, {t} thread{'s' if t > 1 else ''}")
        header.append(f"Legible GFLOP/s, {threads[-1]} threads")
        if len(threads) > 1:
            header.append(f"Legible {threads[0]}→{threads[-1]} threads")
        rows = []
        for T in lengths:
            row = [str(T)]
            for side in ("legible", "torch"):
                for t in threads:
                    row.append(fmt(scaling.get((side, t, T), {}).get("median_s"), "{:.3f}"))
            for t in threads:
                a, b = scaling.get(("legible", t, T)), scaling.get(("torch", t, T))
                row.append(fmt(a and b and b["median_s"] / a["median_s"], "{:.2f}×"))
            row.append(fmt(scaling.get(("legible", threads[-1], T), {}).get("gflops"), "{:.1f}"))
            if len(threads) > 1:
                a1, a2 = scaling.get(("legible", threads[0], T)), scaling.get(("legible", threads[-1], T))
                row.append(fmt(a1 and a2 and a1["median_s"] / a2["median_s"], "{:.2f}×"))
            rows.append(row)
        out.append(table(header, rows) + "\n")
    print("\n".join(out).rstrip() + "\n")


if __name__ == "__main__":
    main()
