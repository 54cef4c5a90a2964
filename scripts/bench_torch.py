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
  gemma3-270m/rlprompt-step  one RLPrompt step at Legible's defaults: Polyak target update, rollout of 16 prompts
                         of 5 tokens from <bos> (model.model with its key/value cache, MLP 640→2048→640 under the
                         tied head, top-256 sampling), rewards of the 16 prompts on the first 16 sentences as
                         "<sentence> It was<prompt>" (a left-padded batch per prompt, logits_to_keep=1) and their
                         log-perplexities, target MLP, soft Q-learning loss, backward into the MLP, clipping, Adam
  gemma3-270m/gcg-step   one GCG step at Legible's defaults: one-hot gradient of the task loss on the 16 sentences,
                         64 tokens per position (half by gradient, half by gradient + λ·NLL), 64 one-token-swap
                         candidates, the current prompt and every candidate scored exactly (task cross-entropy on
                         the 16 sentences, batches of 256 left-padded sequences, logits_to_keep=1, + λ·(log-
                         perplexity + repetition)), λ = 1; every repeat from "Overall, the movie was"

FLOPs are counted with the same formulas as Legible (2·M·N·K per GEMM; for Gemma the work Legible does:
the head at the last token on two rows), so GFLOP/s compare as speed. Peak memory is VmHWM, reset before
each workload through /proc/self/clear_refs. Progress goes to standard error, JSON to standard output.

Usage: bench_torch.py [--workloads a,b] [--shapes 4x64,8x128] [--repeats N] [--warmup N] [--threads N] [--autocast fp32|bf16]
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
GEMMA_RLPROMPT_STEP = "gemma3-270m/rlprompt-step"
GEMMA_GCG_STEP = "gemma3-270m/gcg-step"
DEFAULT_WORKLOADS = GPT2_WORKLOADS + [SGEMM, GEMMA_CLASSIFY, GEMMA_PEZ_STEP]
KNOWN_WORKLOADS = DEFAULT_WORKLOADS + [GEMMA_EVALUATE, GEMMA_GENERATE, GEMMA_RLPROMPT_STEP, GEMMA_GCG_STEP]
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

            def precision():  # --autocast bf16: PyTorch's bfloat16 autocast, float32 otherwise
                return torch.autocast("cpu", dtype=torch.bfloat16, enabled=runner.args.autocast == "bf16")

            def forward():
                with torch.inference_mode(), precision():
                    model(inputs_embeds=embeds).logits

            def step(full):
                def run():
                    for p in model.parameters():
                        p.requires_grad_(full)
                    if full:
                        model.zero_grad(set_to_none=True)
                    x = embeds.clone().requires_grad_(True)
                    with precision():
                        logits = model(inputs_embeds=x).logits
                        loss = F.cross_entropy(logits.view(-1, V), targets.view(-1))
                    loss.backward()
                return run

            steps = {"gpt2-124m/forward": forward, "gpt2-124m/frozen-step": step(False), "gpt2-124m/full-step": step(True)}
            for kind in kinds:
                rows.append(runner.time(kind, B, T, steps[kind], flops=costs[kind], examples=B,
                                        precision="bf16-autocast" if runner.args.autocast == "bf16" else "fp32"))
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
    if GEMMA_RLPROMPT_STEP in workloads:
        runner.results.append(rlprompt_step(runner, model, tokenizer, encoded))
    if GEMMA_GCG_STEP in workloads:
        runner.results.append(gcg_step(runner, model, tokenizer, encoded))


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


def prompt_token_mask(tokenizer, vocabulary):
    """True for the ids a readable prompt may not use, as Legible's default TokenFilter: special, control and unused
    tokens (the tokenizer's special added tokens) and markup pieces such as <td> or <start_of_image>."""
    excluded = [False] * vocabulary
    for i, token in tokenizer.added_tokens_decoder.items():
        if token.special and i < vocabulary:
            excluded[i] = True
    for i, piece in enumerate(tokenizer.convert_ids_to_tokens(list(range(min(len(tokenizer), vocabulary))))):
        body = (piece or "").replace("▁", " ").removeprefix(" ")
        if re.fullmatch(r"<[^ <]+>", body):
            excluded[i] = True
    excluded[len(tokenizer):] = [True] * max(0, vocabulary - len(tokenizer))
    return excluded


def rlprompt_step(runner, model, tokenizer, encoded, batch=16, samples=16, prompt_length=5, hidden_width=2048,
                  sample_top_k=256, target_rate=0.001, reward_scale=5.0, scrutability=0.0, learning_rate=5e-5,
                  max_norm=5.0):
    """One RLPrompt step (Deng et al. 2022) written the obvious PyTorch way, at Legible's defaults: Polyak-average
    the target MLP toward the online one; roll out 16 prompts of 5 tokens from <bos> with the frozen model's body
    (model.model with its key/value cache, use_cache=True) and the online MLP 640→2048→640 under the frozen tied
    head, sampling from the top 256 of the full-vocabulary row; reward every prompt on the 16 sentences as
    "<bos><sentence> It was<prompt>" (one padded batch per prompt, as RLPrompt's reward loops, padded on the left,
    logits_to_keep=1, log-softmax over the verbalizer's two logits), the weighted gap reward, each prompt's
    log-perplexity after <bos> (full-vocabulary logits), z-scored; the target MLP and head on the rollout's states;
    the soft Q-learning loss (single- and multi-step path consistency), loss.backward() into the online MLP only,
    clip_grad_norm_ and Adam."""
    torch, F = runner.torch, runner.torch.nn.functional
    import copy
    import inspect
    model.requires_grad_(False)
    head = model.get_output_embeddings()                    # tied to the input embedding, frozen
    V, C = head.weight.shape
    excluded = torch.tensor(prompt_token_mask(tokenizer, V))
    lengths = encoded["attention_mask"].sum(dim=1).tolist()[:batch]
    sentences = [encoded["input_ids"][i, :n].tolist() for i, n in enumerate(lengths)]  # <bos> sentence It was
    labels = torch.arange(len(sentences)) % 2
    verbalizer = torch.tensor(VERBALIZER)
    bos = tokenizer.bos_token_id

    torch.manual_seed(0x901)
    online = torch.nn.Sequential(torch.nn.Linear(C, hidden_width), torch.nn.ReLU(), torch.nn.Linear(hidden_width, C))
    for layer in (online[0], online[2]):  # RLPrompt's initialization: near-uniform policy
        torch.nn.init.xavier_uniform_(layer.weight, gain=1e-4)
        torch.nn.init.constant_(layer.bias, -1e-4)
    target = copy.deepcopy(online).requires_grad_(False)
    optimizer = torch.optim.Adam(online.parameters(), lr=learning_rate)
    generator = torch.Generator().manual_seed(0)
    # The key/value cache argument: `cache` since transformers 5, `past_key_values` before.
    cache_name = "cache" if "cache" in inspect.signature(model.model.forward).parameters else "past_key_values"

    def z(x):
        return (x - x.mean()) / (x.std(correction=0) + 1e-4)

    def step():
        with torch.no_grad():  # Polyak: θ′ ← (1 − τ)·θ′ + τ·θ
            for t, o in zip(target.parameters(), online.parameters()):
                t.lerp_(o, target_rate)

        # Rollout: the frozen body with its key/value cache, the online MLP and head with autograd.
        tokens = torch.full((samples, 1), bos)
        cache, states, q_rows, actions = None, [], [], []
        for _ in range(prompt_length):
            with torch.no_grad():
                out = model.model(input_ids=tokens[:, -1:], use_cache=True, **{cache_name: cache})
            cache = getattr(out, cache_name)
            state = out.last_hidden_state[:, -1]                             # (S, C)
            q = head(online(state)).masked_fill(excluded, float("-inf"))     # (S, V)
            with torch.no_grad():
                top = q.topk(sample_top_k, dim=-1)
                pick = torch.multinomial(top.values.softmax(dim=-1), 1, generator=generator)
                action = top.indices.gather(1, pick)                         # (S, 1)
            states.append(state); q_rows.append(q); actions.append(action)
            tokens = torch.cat([tokens, action], dim=1)
        prompts = tokens[:, 1:]                                              # (S, L)

        with torch.no_grad():
            # Rewards: every prompt on every sentence, one batch per prompt.
            gaps = []
            for prompt in prompts.tolist():
                padded = tokenizer.pad({"input_ids": [s + prompt for s in sentences]}, padding_side="left",
                                       return_tensors="pt")
                logits = model(**padded, logits_to_keep=1).logits[:, -1]
                probabilities = logits[:, verbalizer].softmax(dim=-1)
                rows = torch.arange(len(sentences))
                gap = probabilities[rows, labels] - probabilities[rows, 1 - labels]
                gaps.append((gap * torch.where(gap > 0, 200.0, 180.0)).mean())
            gaps = torch.stack(gaps)
            logits = model(input_ids=tokens).logits[:, :-1]                  # (S, L, V): row i predicts token i
            nll = F.cross_entropy(logits.reshape(-1, V), prompts.reshape(-1), reduction="none")
            log_perplexities = nll.view(samples, -1).mean(dim=1)
            rewards = reward_scale * z(gaps) - scrutability * z(log_perplexities)

            # The target network on the same states.
            target_q = head(target(torch.stack(states))).masked_fill(excluded, float("-inf"))  # (L, S, V)
            target_v = target_q.logsumexp(dim=-1)                            # (L, S)

        # Soft Q-learning: A = Q(s, a) − log Σ exp Q(s, ·); single-step and multi-step path consistency.
        q = torch.stack(q_rows)                                              # (L, S, V)
        a = q.gather(-1, torch.stack(actions)).squeeze(-1) - q.logsumexp(dim=-1)
        single = a - torch.cat([target_v[1:] - target_v[:-1], (rewards - target_v[-1]).unsqueeze(0)])
        multi = a.flip(0).cumsum(0).flip(0) - (rewards - target_v)
        loss = ((single ** 2 + multi ** 2) / 2).sum(dim=0).mean()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(online.parameters(), max_norm)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        return loss

    note = (f"{samples} sampled prompts of {prompt_length} tokens (top-{sample_top_k}), rewarded on {len(sentences)} "
            f"sentences ({min(lengths)}-{max(lengths)} tokens) in one left-padded batch per prompt, logits_to_keep=1; "
            f"MLP {C}→{hidden_width}→{C}; no cached sentence prefixes")
    return runner.time(GEMMA_RLPROMPT_STEP, samples, prompt_length, step, note=note)


def gcg_step(runner, model, tokenizer, encoded, batch=16, initial="Overall, the movie was", candidates=64, top_k=64,
             scrutability=1.0, repetition=4.0, prompts_per_pass=16):
    """One GCG step (AutoPrompt, GCG, ARCA) written the obvious PyTorch way, at Legible's defaults: the one-hot
    gradient of the task loss (one_hot @ embedding matrix, scaled as Gemma's embedding scales, spliced after the 16
    left-padded sentences in "<sentence> It was<prompt>", logits_to_keep=1, cross-entropy on the verbalizer logits,
    loss.backward()); per position half of 64 tokens by the gradient alone and the rest by gradient + λ·NLL of the
    token there (one forward of <bos> + prompt, full-vocabulary logits); 64 distinct candidates each changing one
    random position to a token of its pool, kept when their text reads back as as many allowed ids; then the current
    prompt and every candidate scored exactly: 16 prompts × 16 sentences per left-padded batch, logits_to_keep=1,
    task cross-entropy + λ·(log-perplexity after <bos>, full-vocabulary logits, + repetition penalty); the best
    candidate replaces the prompt when it lowers the objective. Every repeat starts from the same prompt, as
    Legible's benchmark restores the search's state."""
    torch, F = runner.torch, runner.torch.nn.functional
    import random
    model.requires_grad_(False)
    embedding = model.get_input_embeddings()                 # scales by sqrt(hidden size) on lookup
    V = embedding.weight.shape[0]
    allowed = [not x for x in prompt_token_mask(tokenizer, V)]
    excluded = ~torch.tensor(allowed)
    lengths = encoded["attention_mask"].sum(dim=1).tolist()[:batch]
    sentences = [encoded["input_ids"][i, :n].tolist() for i, n in enumerate(lengths)]  # <bos> sentence It was
    B = len(sentences)
    labels = torch.arange(B) % 2
    verbalizer = torch.tensor(VERBALIZER)
    bos = tokenizer.bos_token_id
    n = len(tokenizer.encode(initial, add_special_tokens=False))

    def typed(ids):  # the ids a person gets by typing the prompt's text, if as many and all allowed
        again = tokenizer.encode(tokenizer.decode(ids).lstrip(" "), add_special_tokens=False)
        return again if len(again) == len(ids) and all(t < V and allowed[t] for t in again) else None

    def objective(prompts):
        """task cross-entropy + λ·(log-perplexity + repetition) of each prompt (token id lists) on the sentences."""
        task, log_perplexities = [], []
        for first in range(0, len(prompts), prompts_per_pass):
            chunk = prompts[first:first + prompts_per_pass]
            padded = tokenizer.pad({"input_ids": [s + p for p in chunk for s in sentences]}, padding_side="left",
                                   return_tensors="pt")
            logits = model(**padded, logits_to_keep=1).logits[:, -1, verbalizer]          # (P·B, 2)
            nll = F.cross_entropy(logits, labels.repeat(len(chunk)), reduction="none")
            task.append(nll.view(len(chunk), B).mean(dim=1))
            ids = torch.tensor([[bos] + p for p in chunk])
            logits = model(input_ids=ids).logits[:, :-1]                                    # (P, n, V)
            nll = F.cross_entropy(logits.reshape(-1, V), ids[:, 1:].reshape(-1), reduction="none")
            log_perplexities.append(nll.view(len(chunk), -1).mean(dim=1))
        repeats = torch.tensor([repetition * (len(p) - len(set(p))) / len(p) for p in prompts])
        return torch.cat(task) + scrutability * (torch.cat(log_perplexities) + repeats)

    start = tokenizer.encode(initial, add_special_tokens=False)
    current = typed(start) or start  # as Legible starts: the text's ids, written as typed

    def step():
        # 1. The one-hot gradient of the task loss.
        padded = tokenizer.pad({"input_ids": sentences}, padding_side="left", return_tensors="pt")
        one_hot = F.one_hot(torch.tensor(current), V).float().requires_grad_(True)       # (n, V)
        prompt = (one_hot @ embedding.weight) * embedding.embed_scale                      # (n, C)
        inputs = torch.cat([embedding(padded["input_ids"]), prompt.expand(B, -1, -1)], dim=1)
        mask = torch.cat([padded["attention_mask"], torch.ones(B, n, dtype=padded["attention_mask"].dtype)], dim=1)
        logits = model(inputs_embeds=inputs, attention_mask=mask, logits_to_keep=1).logits[:, -1]
        F.cross_entropy(logits[:, verbalizer], labels).backward()
        gradient = one_hot.grad                                                            # (n, V)

        with torch.no_grad():
            # 2. Pools: half by the gradient, the rest by the gradient + λ·the token's NLL at its position.
            blocked = excluded | one_hot.bool()
            nll = -model(input_ids=torch.tensor([[bos] + current])).logits[0, :n].log_softmax(dim=-1)
            by_task = gradient.masked_fill(blocked, float("inf")).topk((top_k + 1) // 2, largest=False).indices
            combined = gradient + scrutability * nll
            by_both = combined.masked_fill(blocked, float("inf")).topk(top_k, largest=False).indices
            pools = [task + [t for t in both if t not in task][:top_k - len(task)]
                     for task, both in zip(by_task.tolist(), by_both.tolist())]

            # 3. Distinct candidates changing one position each, then written as typed text (drawn again: dropped).
            rng, seen, drawn, attempts = random.Random(0), {tuple(current)}, [], 0
            while len(drawn) < candidates and attempts < 20 * candidates:
                attempts += 1
                candidate = list(current)
                i = rng.randrange(n)
                candidate[i] = rng.choice(pools[i])
                if tuple(candidate) not in seen:
                    seen.add(tuple(candidate))
                    drawn.append(candidate)
            seen, kept = {tuple(current)}, []
            for candidate in filter(None, map(typed, drawn)):
                if tuple(candidate) not in seen:
                    seen.add(tuple(candidate))
                    kept.append(candidate)

            # 4–5. Exact scores; the best candidate replaces the prompt when it lowers the objective.
            scores = objective([current] + kept)
            if not kept:
                return current, scores[0]
            best = int(scores[1:].argmin()) + 1
            return (kept[best - 1] if scores[best] < scores[0] else current), scores[best]

    note = (f"{candidates} candidates ({top_k} tokens per position, one position each) of {n} tokens and the current "
            f"prompt scored on {B} sentences ({min(lengths)}-{max(lengths)} tokens), λ {scrutability:g}; "
            f"{prompts_per_pass * B} sequences per left-padded batch, logits_to_keep=1; no cached sentence prefixes")
    return runner.time(GEMMA_GCG_STEP, B, max(lengths) + n, step, examples=B, note=note)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--workloads", default=",".join(DEFAULT_WORKLOADS))
    parser.add_argument("--shapes", default="4x64,8x128")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--threads", type=int, default=os.cpu_count())
    parser.add_argument("--autocast", choices=["fp32", "bf16"], default="fp32",
                        help="GPT-2 workloads under torch.autocast('cpu', dtype=torch.bfloat16) (bf16) or in float32")
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
    if any(w in workloads for w in [GEMMA_CLASSIFY, GEMMA_PEZ_STEP, GEMMA_EVALUATE, GEMMA_GENERATE, GEMMA_RLPROMPT_STEP,
                                    GEMMA_GCG_STEP]):
        run_gemma(runner, workloads)
    print(json.dumps(runner.results, indent=2, sort_keys=True))


if __name__ == "__main__":
    main()
