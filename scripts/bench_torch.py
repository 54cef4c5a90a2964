#!/usr/bin/env python3
"""The PyTorch peer of `legible bench`: the same GPT-2 124M and Gemma 3 270M workloads on the CPU, done the
obvious PyTorch way, printed as the same JSON schema (see Sources/Benchmarks/BenchmarkResult.swift).

  gpt2-124m/forward      GPT2LMHeadModel(GPT2Config()) float32 random weights, eval mode (no dropout),
                         inputs_embeds (B,T,C), logits at every position, under torch.inference_mode()
  gpt2-124m/frozen-step  parameters requires_grad_(False), inputs_embeds requiring grad, mean cross-entropy
                         over every position and the full vocabulary, loss.backward()
  gpt2-124m/full-step    the same with parameter gradients (zero_grad(set_to_none=True) first)
  sgemm                  torch.mm at the GEMM shapes of those workloads, for the BLAS share
  gemma3-270m/classify   AutoModelForCausalLM.from_pretrained(dir, gguf_file=...) in float32, the first 32
                         SST-2 test sentences as "<sentence> It was", padded batch with attention mask,
                         full-vocabulary logits at every position (as users run it), then the last real
                         token's logits at the two verbalizer ids
  gemma3-270m/evaluate-600  the test evaluation `legible tune` ends with, written as a PyTorch user would: 600
                         SST-2 test sentences (16-100, rows spread over the file) in PEZ's template with a
                         10-token prompt, five passes (soft prompt and its projection as inputs_embeds, the
                         prompt's text, no prompt, the manual prompt), batches of 16 padded on the left so the
                         last position is every sequence's last token, full-vocabulary logits there only
                         (logits_to_keep=1), under torch.inference_mode()
  gemma3-270m/generate-128  model.generate on the first SST-2 sentence, greedy, exactly 128 new tokens
                         (min_new_tokens=max_new_tokens=128), with its key/value cache: tokens/s generated

FLOPs are counted with the same formulas as Legible (2·M·N·K per GEMM; for Gemma the work Legible does:
the head at the last token on two rows), so GFLOP/s compare as speed. Peak memory is VmHWM, reset before
each workload through /proc/self/clear_refs. Progress goes to standard error, JSON to standard output.

Usage: bench_torch.py [--workloads a,b] [--shapes 4x64,8x128] [--repeats N] [--warmup N] [--threads N]
"""
import argparse
import gc
import json
import os
import re
import statistics
import sys
import time

GPT2_WORKLOADS = ["gpt2-124m/forward", "gpt2-124m/frozen-step", "gpt2-124m/full-step"]
SGEMM = "sgemm"
GEMMA_CLASSIFY = "gemma3-270m/classify"
GEMMA_PEZ_STEP = "gemma3-270m/pez-step"
GEMMA_EVALUATE = "gemma3-270m/evaluate-600"
GEMMA_GENERATE = "gemma3-270m/generate-128"
DEFAULT_WORKLOADS = GPT2_WORKLOADS + [SGEMM, GEMMA_CLASSIFY, GEMMA_PEZ_STEP]
KNOWN_WORKLOADS = DEFAULT_WORKLOADS + [GEMMA_EVALUATE, GEMMA_GENERATE]
GEMMA_DEFAULT = "models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf"
SENTENCE_FILES = ["data/fewshot/sst-2/16-100/test.tsv", "../shared/data/fewshot/sst-2/16-100/test.tsv"]
VERBALIZER = [1822, 21832]  # ▁great, ▁terrible: the ids Legible uses (GemmaClassifyBatch.verbalizer)
SUFFIX = " It was"

# GPT-2 124M
L, C, V, H = 12, 768, 50257, 12


def log(message):
    print(message, file=sys.stderr, flush=True)


def peak_mb():
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1000
    except OSError:
        pass
    return None


def reset_peak():
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


def measure(step, warmup, repeats):
    for _ in range(warmup):
        step()
    samples = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        samples.append(time.perf_counter() - start)
    return samples


def blas_core(torch):
    match = re.search(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    return f"torch {torch.__version__.split('+')[0]}" + (f" {match.group(1)}" if match else "")


def gpt2_costs(B, T):
    """Same formulas as Sources/Benchmarks/GPT2Cost.swift."""
    N = B * T
    linear = L * 24 * N * C * C
    attention = L * B * 4 * T * T * C
    head = 2 * N * C * V
    forward = linear + attention + head
    frozen_backward = linear + 2 * attention + head
    full_backward = frozen_backward + linear + head
    shapes = [("qkv", N, 3 * C, C, False, L), ("attn-proj", N, C, C, False, L), ("fc", N, 4 * C, C, False, L),
              ("fc-proj", N, C, 4 * C, False, L), ("lm-head", N, V, C, True, 1)]
    return {"gpt2-124m/forward": forward, "gpt2-124m/frozen-step": forward + frozen_backward,
            "gpt2-124m/full-step": forward + full_backward}, shapes


class Runner:
    def __init__(self, torch, args):
        self.torch, self.args = torch, args
        self.core = blas_core(torch)
        self.results = []

    def time(self, workload, B, T, step, flops=None, examples=None, note=None, **extra):
        log(f"running {workload} B={B} T={T}" + (f" {extra.get('gemm')}" if "gemm" in extra else ""))
        gc.collect()
        reset_peak()
        samples = measure(step, self.args.warmup, self.args.repeats)
        median = statistics.median(samples)
        row = {"workload": workload, "B": B, "T": T, "median_s": median, "min_s": min(samples), "max_s": max(samples),
               "runs": len(samples), "peak_rss_mb": peak_mb(), "threads": self.torch.get_num_threads(),
               "blas_core": self.core}
        if flops is not None:
            row["gflops"] = flops / median / 1e9
        if examples is not None:
            row["examples_per_s"] = examples / median
        if note:
            row["note"] = note
        row.update(extra)
        return row


def run_gpt2(runner, kinds, shapes, want_sgemm):
    torch = runner.torch
    import torch.nn.functional as F
    model = None
    if kinds:
        from transformers import GPT2Config, GPT2LMHeadModel
        log("preparing GPT-2 124M with random weights")
        torch.manual_seed(1)
        model = GPT2LMHeadModel(GPT2Config()).float().eval()  # eval: dropout off, as Legible has none
    for B, T in sorted(shapes, key=lambda s: s[0] * s[1]):
        costs, gemm_shapes = gpt2_costs(B, T)
        rows = []
        if model is not None:
            generator = torch.Generator().manual_seed(1)
            ids = torch.randint(0, V, (B, T), generator=generator)
            targets = torch.randint(0, V, (B, T), generator=generator)
            with torch.no_grad():
                embeds = model.transformer.wte(ids).detach().clone()

            def forward():
                with torch.inference_mode():
                    model(inputs_embeds=embeds).logits

            def step(full):
                def run():
                    for p in model.parameters():
                        p.requires_grad_(full)
                    if full:
                        model.zero_grad(set_to_none=True)
                    x = embeds.clone().requires_grad_(True)
                    logits = model(inputs_embeds=x).logits
                    loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
                    loss.backward()
                return run

            steps = {"gpt2-124m/forward": forward, "gpt2-124m/frozen-step": step(False), "gpt2-124m/full-step": step(True)}
            for kind in kinds:
                rows.append(runner.time(kind, B, T, steps[kind], flops=costs[kind], examples=B))
        if want_sgemm:
            rates, sgemm_rows = {}, []
            for name, M, N, K, transpose_b, count in gemm_shapes:
                a = torch.rand(M, K) - 0.5
                b = 0.04 * (torch.rand(N, K) - 0.5) if transpose_b else 0.04 * (torch.rand(K, N) - 0.5)
                out = torch.empty(M, N)
                op_b = b.t() if transpose_b else b
                flops = 2 * M * N * K
                row = runner.time(SGEMM, B, T, lambda: torch.mm(a, op_b, out=out), flops=flops,
                                  gemm=name + (" (B transposed)" if transpose_b else ""), m=M, n=N, k=K)
                rates[name] = flops / row["median_s"]
                sgemm_rows.append(row)
                del a, b, out, op_b
            work = sum(count * 2 * M * N * K for _, M, N, K, _, count in gemm_shapes)
            time_needed = sum(count * 2 * M * N * K / rates[name] for name, M, N, K, _, count in gemm_shapes)
            rate = work / time_needed
            sgemm_rows.append({"workload": SGEMM, "B": B, "T": T, "median_s": time_needed, "min_s": time_needed,
                               "max_s": time_needed, "runs": sgemm_rows[0]["runs"], "gflops": rate / 1e9,
                               "threads": torch.get_num_threads(), "blas_core": runner.core, "gemm": "gpt2-124m mix",
                               "note": "FLOP-weighted over the GEMM shapes of one GPT-2 forward"})
            for row in rows:
                row["blas_share"] = row["gflops"] * 1e9 / rate
            rows += sgemm_rows
        runner.results += rows
    del model
    gc.collect()


def gemma_inputs(tokenizer, count=32):
    path = next((p for p in SENTENCE_FILES if os.path.exists(p)), None)
    if path is None:
        return None, "no SST-2 test.tsv found"
    with open(path, encoding="utf-8") as f:
        lines = f.read().split("\n")[1:]
    texts = [line.split("\t")[0] + SUFFIX for line in lines if line][:count]
    return texts, None


def run_gemma(runner, workloads):
    torch = runner.torch
    gguf = os.environ.get("LEGIBLE_GEMMA_GGUF", GEMMA_DEFAULT)
    if not os.path.exists(gguf):
        log(f"skipping {GEMMA_CLASSIFY}: no model at {GEMMA_DEFAULT} and LEGIBLE_GEMMA_GGUF not set")
        return
    from transformers import AutoModelForCausalLM, AutoTokenizer
    directory, name = os.path.dirname(os.path.abspath(gguf)), os.path.basename(gguf)
    log(f"preparing Gemma 3 from {name}")
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    tokenizer.padding_side = "right"
    try:
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, dtype=torch.float32)
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(directory, gguf_file=name, torch_dtype=torch.float32)
    model.eval()
    texts, problem = gemma_inputs(tokenizer)
    note = None
    if texts is None:
        # Same idea as Legible's fallback: fixed pseudo-random ids of lengths 20-40 (not the same ids).
        generator = torch.Generator().manual_seed(3)
        lengths = torch.randint(20, 41, (32,), generator=generator).tolist()
        ids = [torch.randint(1000, 101000, (n,), generator=generator).tolist() for n in lengths]
        encoded = tokenizer.pad({"input_ids": ids}, return_tensors="pt")
        note = f"synthetic token ids (lengths 20-40): {problem}"
    else:
        encoded = tokenizer(texts, padding=True, return_tensors="pt")  # adds <bos> as Legible does
    mask = encoded["attention_mask"]
    lengths = mask.sum(dim=1).tolist()
    last = mask.sum(dim=1) - 1
    rows = torch.arange(mask.shape[0])
    verbalizer = torch.tensor(VERBALIZER)

    def classify():
        with torch.inference_mode():
            logits = model(**encoded).logits  # (B, T, V): every position, full vocabulary
            logits[rows, last][:, verbalizer]

    config = model.config.get_text_config() if hasattr(model.config, "get_text_config") else model.config
    Cg, Fg, layers = config.hidden_size, config.intermediate_size, config.num_hidden_layers
    Q = config.num_attention_heads * config.head_dim
    K = config.num_key_value_heads * config.head_dim
    N = sum(lengths)
    linear = 2 * N * Cg * (Q + 2 * K) + 2 * N * Q * Cg + 4 * N * Cg * Fg + 2 * N * Fg * Cg
    attention = sum(4 * n * n * Q for n in lengths)
    flops = layers * (linear + attention) + 2 * len(lengths) * Cg * len(VERBALIZER)
    span = f"lengths {min(lengths)}-{max(lengths)}, {N} tokens; padded to {mask.shape[1]}, full-vocabulary logits"
    if GEMMA_CLASSIFY in workloads:
        runner.results.append(runner.time(GEMMA_CLASSIFY, len(lengths), max(lengths), classify, flops=flops,
                                          examples=len(lengths), note=f"{note}; {span}" if note else span))
    if GEMMA_PEZ_STEP in workloads:
        runner.results.append(pez_step(runner, model, encoded))
    if GEMMA_EVALUATE in workloads:
        runner.results.append(evaluate_600(runner, model, tokenizer))
    if GEMMA_GENERATE in workloads:
        runner.results.append(generate_128(runner, model, encoded))


def generate_128(runner, model, encoded, tokens=128):
    torch = runner.torch
    first = encoded["input_ids"][:1, :int(encoded["attention_mask"][0].sum())]

    def generate():
        with torch.inference_mode():
            out = model.generate(first, attention_mask=torch.ones_like(first), do_sample=False,
                                 max_new_tokens=tokens, min_new_tokens=tokens)
        assert out.shape[1] - first.shape[1] == tokens

    note = f"{first.shape[1]}-token prompt, {tokens} greedy tokens (model.generate with its cache); examples/s is tokens/s"
    row = runner.time(GEMMA_GENERATE, 1, first.shape[1] + tokens, generate, examples=tokens, note=note)
    row["tokens_per_s"] = tokens / row["median_s"]
    return row


def spread_rows(count, limit):
    """Legible's --test-limit rows: `limit` indices spread evenly over `count`, the first included."""
    if limit >= count:
        return list(range(count))
    return [i * count // limit for i in range(limit)]


def evaluate_600(runner, model, tokenizer, limit=600, prompt_length=10, batch=16):
    torch = runner.torch
    path = next((p for p in SENTENCE_FILES if os.path.exists(p)), None)
    with open(path, encoding="utf-8") as f:
        lines = [line for line in f.read().split("\n")[1:] if line]
    sentences = [lines[i].split("\t")[0] for i in spread_rows(len(lines), limit)]
    embedding = model.get_input_embeddings()
    generator = torch.Generator().manual_seed(29)
    prompt_ids = torch.randint(1000, 101000, (prompt_length,), generator=generator)
    with torch.no_grad():
        projected = embedding(prompt_ids)
        soft = projected + 0.01 * torch.randn(projected.shape, generator=generator)
    prompt_text = tokenizer.decode(prompt_ids)
    verbalizer = torch.tensor(VERBALIZER)
    tokenizer.padding_side = "left"
    bos = torch.tensor([[tokenizer.bos_token_id]])

    def embedded_pass(prompt):  # "<bos>{prompt} {sentence} It was", the prompt as vectors
        for start in range(0, len(sentences), batch):
            chunk = [" " + s + SUFFIX for s in sentences[start:start + batch]]
            encoded = tokenizer(chunk, padding=True, add_special_tokens=False, return_tensors="pt")
            B = encoded["input_ids"].shape[0]
            inputs = torch.cat([embedding(bos).expand(B, -1, -1), prompt.expand(B, -1, -1), embedding(encoded["input_ids"])], dim=1)
            ones = torch.ones(B, 1 + prompt_length, dtype=encoded["attention_mask"].dtype)
            mask = torch.cat([ones, encoded["attention_mask"]], dim=1)
            # [<bos> prompt | pads | sentence] → [pads | <bos> prompt sentence]: the last position is every row's last
            # token (RoPE depends only on relative positions, so the shift changes nothing).
            index = torch.argsort(mask, dim=1, stable=True)
            inputs = torch.gather(inputs, 1, index.unsqueeze(-1).expand(-1, -1, inputs.shape[2]))
            mask = torch.gather(mask, 1, index)
            logits = model(inputs_embeds=inputs, attention_mask=mask, logits_to_keep=1).logits[:, -1]
            logits[:, verbalizer]

    def text_pass(text):  # the prompt typed into the template
        for start in range(0, len(sentences), batch):
            chunk = [(text + " " if text else "") + s + SUFFIX for s in sentences[start:start + batch]]
            encoded = tokenizer(chunk, padding=True, return_tensors="pt")
            logits = model(**encoded, logits_to_keep=1).logits[:, -1]
            logits[:, verbalizer]

    def evaluate():
        with torch.inference_mode():
            embedded_pass(soft)
            embedded_pass(projected)
            text_pass(prompt_text.strip())
            text_pass("")
            text_pass("Overall, the movie was")

    note = f"{len(sentences)} SST-2 test sentences x 5 passes, prompt {prompt_length} tokens, batches of {batch} padded left, logits at the last position only"
    return runner.time(GEMMA_EVALUATE, len(sentences), 0, evaluate, examples=len(sentences), note=note)


def pez_step(runner, model, encoded, batch=16, prompt_length=10):
    """One PEZ step written the obvious PyTorch way: nearest tokens by cosine over the whole embedding matrix,
    the projected prompt spliced in after <bos>, full-vocabulary logits, cross-entropy on the verbalizer logits at
    each example's last token, backward to the projected prompt, AdamW on the continuous prompt."""
    torch, F = runner.torch, runner.torch.nn.functional
    model.requires_grad_(False)
    embedding = model.get_input_embeddings()           # scales by sqrt(hidden size) on lookup
    normalized = F.normalize(embedding.weight, dim=1)   # (V, C)
    generator = torch.Generator().manual_seed(0)
    start = torch.randint(0, embedding.weight.shape[0], (prompt_length,), generator=generator)
    prompt = torch.nn.Parameter(embedding(start).detach().clone())
    optimizer = torch.optim.AdamW([prompt], lr=1.0, weight_decay=0.01)
    ids, mask = encoded["input_ids"][:batch], encoded["attention_mask"][:batch]
    B = ids.shape[0]
    full_mask = torch.cat([mask[:, :1], torch.ones(B, prompt_length, dtype=mask.dtype), mask[:, 1:]], dim=1)
    last = full_mask.sum(dim=1) - 1
    rows = torch.arange(B)
    labels = torch.arange(B) % 2
    verbalizer = torch.tensor(VERBALIZER)

    def step():
        with torch.no_grad():
            nearest = (F.normalize(prompt, dim=1) @ normalized.T).argmax(dim=1)
        projected = embedding(nearest).detach().requires_grad_(True)
        tokens = embedding(ids)
        inputs = torch.cat([tokens[:, :1], projected.expand(B, -1, -1), tokens[:, 1:]], dim=1)
        logits = model(inputs_embeds=inputs, attention_mask=full_mask).logits
        loss = F.cross_entropy(logits[rows, last][:, verbalizer], labels)
        loss.backward()
        prompt.grad = projected.grad  # PEZ: the gradient at the projection updates the continuous prompt
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)

    lengths = (full_mask.sum(dim=1)).tolist()
    note = f"batch {B}, prompt {prompt_length} tokens, lengths {min(lengths)}-{max(lengths)}; full-vocabulary logits"
    return runner.time(GEMMA_PEZ_STEP, B, max(lengths), step, examples=B, note=note)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    parser.add_argument("--shapes", default="4x64,8x128")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    args = parser.parse_args()
    workloads = [w.strip() for w in args.workloads.split(",") if w.strip()]
    unknown = [w for w in workloads if w not in KNOWN_WORKLOADS]
    if unknown:
        parser.error(f"unknown workload {', '.join(unknown)}; known: {', '.join(KNOWN_WORKLOADS)}")
    try:
        shapes = [tuple(int(x) for x in s.lower().split("x")) for s in args.shapes.split(",")]
        assert all(len(s) == 2 and s[0] >= 1 and 1 <= s[1] <= 1024 for s in shapes)
    except (ValueError, AssertionError):
        parser.error(f"--shapes takes BxT pairs such as 4x64,8x128 (T ≤ 1024), not {args.shapes!r}")
    if args.repeats < 1 or args.warmup < 0 or args.threads < 1:
        parser.error("--repeats and --threads must be at least 1, --warmup at least 0")

    import torch
    torch.set_num_threads(args.threads)
    runner = Runner(torch, args)
    kinds = [k for k in GPT2_WORKLOADS if k in workloads]
    if kinds or SGEMM in workloads:
        run_gpt2(runner, kinds, shapes, SGEMM in workloads)
    if any(w in workloads for w in [GEMMA_CLASSIFY, GEMMA_PEZ_STEP, GEMMA_EVALUATE, GEMMA_GENERATE]):
        run_gemma(runner, workloads)
    print(json.dumps(runner.results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
