#!/usr/bin/env python3
"""Golden values for the Llama/Qwen2 engine, from PyTorch + transformers on the real Qwen2.5-Coder 0.5B GGUF.

  python scripts/make_qwen2_reference.py [GGUF]

GGUF defaults to $LEGIBLE_QWEN2_GGUF, else models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf under the
repository root (see /work/shared/models/qwen2.5-coder-0.5b/README.md for where it comes from). transformers
dequantizes every tensor (Q5_0, Q8_0, Q4_K, Q6_K, F32) to float32 -- the values the Swift GGUF reader produces --
and the model runs in float32 with eager attention on the CPU. Qwen2 has no sliding window in this file
(use_sliding_window is false, every layer is full attention), q/k/v projections carry biases, o_proj does not, and
the output head is separate (output.weight, Q8_0), not tied. Qwen's tokenizer adds no BOS: every id list below is
tokenizer.encode(text, add_special_tokens=False) and starts with the text's first token.
Writes into Tests/ModelsTests/Fixtures/qwen2/ (about 0.33 MB):

  config.json      what transformers derives for this file beyond the GGUF metadata (RoPE base, RMSNorm epsilon,
                   tied head or not, attention biases, heads and key/value heads, head size, attention scale,
                   layer types, vocabulary size), and which keys came from the GGUF
  reference.safetensors, float32 throughout (ids are stored as float32; every id is below 2^24):
    sample_ids (S,)                  S = 4096 distinct vocabulary ids, seeded, sorted; shared by all prompts
    prompt{i}.ids (T_i,)             prompt i without special tokens, i = 0..3
    prompt{i}.top_ids, .top_logits (50,)    last position: the 50 largest logits, largest first
    prompt{i}.sample_logits (S,)     last position: logits at sample_ids
    prompt{i}.logsumexp (1,)         last position: log-sum-exp over all V logits, computed in float64
    prompt0.all_sample_logits (T_0, S)      every position: logits at sample_ids
    prompt0.final_hidden (T_0, C)           after the final norm (the LM head's input)
    grad.ids (T,), grad.inputs_embeds (T, C)   prompt 0; inputs_embeds = embed_tokens(ids) (Qwen2 has no
                                     embedding scale); the gradients are taken at it
    grad.target (1,)                 token id of " Paris"
    grad.loss_full (1,)              cross_entropy(full-vocabulary logits at the last position, target)
    grad.d_inputs_full (T, C)        d loss_full / d inputs_embeds
    grad.subset_vocab (K,)           K = 5 vocabulary ids
    grad.subset_targets (T,)         per position, an INDEX into subset_vocab (0..K-1), not a vocabulary id
    grad.loss_subset (1,)            mean over all T positions of cross_entropy(logits[t, subset_vocab],
                                     subset_targets[t])
    grad.d_inputs_subset (T, C)      d loss_subset / d inputs_embeds
    greedy.prompt_ids, greedy.tokens (20,)   generate(do_sample=False, max_new_tokens=20), new tokens only
    greedy.top2_gap (20,)            per step, top-1 minus top-2 logit (a small gap means a fragile step)
    long.ids (300,)                  300 seeded random ids in [1000, 150000) (no BOS; all ordinary tokens)
    long.positions (P,)              P = 5 positions: the first, around powers of two, and the last
    long.sample_logits (P, S), long.logsumexp (P,)

Run with the project's venv (torch, transformers 5, gguf, accelerate -- transformers needs it to load a GGUF). About
2 minutes 15 s on two busy CPU cores (one torch thread), most of it loading: dequantizing the GGUF (about 45 s) and
reading its metadata and building the tokenizer from 151,936 tokens and 151,387 merges (about a minute); the forward passes, the two
backward passes and the greedy check take about 20 s. The greedy run's smallest top-2 gaps are about 0.07 (steps 2
and 3, after " Paris"). The seeds are fixed; running it again on the same machine rewrites the same values (at
most last-bit differences from the BLAS).
"""
import argparse
import json
import os
import pathlib
import time

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "qwen2.5-coder-0.5b" / "qwen2.5-coder-0.5b-instruct.gguf"
FIXTURES = ROOT / "Tests" / "ModelsTests" / "Fixtures" / "qwen2"
SEED = 0

PROMPTS = [
    "The capital of France is",
    "def fibonacci(n):",
    "Alan Turing theorized that computers would one day become",
    "# Sort the list in place\nitems.",
]
N_TOP = 50
N_SAMPLE = 4096
GRAD_TARGET_TEXT = " Paris"
SUBSET_TEXTS = [" Paris", " London", " the", " a", "."]
LONG_LENGTH = 300
LONG_RANGE = (1000, 150000)
LONG_POSITIONS = [0, 127, 128, 255, LONG_LENGTH - 1]
GREEDY = [("greedy", PROMPTS[0], 20)]

CONFIG_KEYS = [
    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "hidden_act", "max_position_embeddings", "rms_norm_eps",
    "tie_word_embeddings", "rope_parameters", "use_sliding_window", "sliding_window", "max_window_layers",
    "layer_types", "attention_dropout", "bos_token_id", "eos_token_id", "pad_token_id",
]


def load(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise SystemExit(f"no GGUF at {path}: see /work/shared/models/qwen2.5-coder-0.5b/README.md "
                         "or set LEGIBLE_QWEN2_GGUF")
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return model, tokenizer


def encode(tokenizer, text):
    return tokenizer.encode(text, add_special_tokens=False)


def single_id(tokenizer, text):
    ids = encode(tokenizer, text)
    assert len(ids) == 1, f"{text!r} is not one token: {ids}"
    return ids[0]


def write_config(model, tokenizer):
    from transformers.integrations.ggml import GGUF_CONFIG_MAPPING

    config = model.config.to_dict()
    relevant = {k: config.get(k) for k in CONFIG_KEYS}
    rope = config["rope_parameters"]
    attn = model.model.layers[0].self_attn
    # Config keys read from GGUF metadata; vocab_size has no qwen2.* key and comes from the token list, and
    # tie_word_embeddings is set from whether the file has output.weight. Everything else is a default.
    from_gguf = sorted(v for v in GGUF_CONFIG_MAPPING["qwen2"].values() if v is not None and v != "vocab_size")
    from_gguf = ["rope_parameters.rope_theta" if k == "rope_theta" else k for k in from_gguf]
    from_gguf += ["vocab_size (len(tokenizer.ggml.tokens))", "tie_word_embeddings (no output.weight)"]
    derived = {
        # Older names for the same values, as Hugging Face config.json files spell them.
        "rope_theta": rope["rope_theta"],
        "rope_scaling": None if rope["rope_type"] == "default" else rope,
        # What the modules compute from the config.
        "head_dim": attn.head_dim,
        "attention_scaling": attn.scaling,
        "num_key_value_groups": attn.num_key_value_groups,
        "attention_bias": {name: getattr(attn, name).bias is not None
                           for name in ("q_proj", "k_proj", "v_proj", "o_proj")},
        "mlp_bias": any(getattr(model.model.layers[0].mlp, n).bias is not None
                        for n in ("gate_proj", "up_proj", "down_proj")),
        "sliding_window_layers": [i for i, t in enumerate(config["layer_types"]) if t != "full_attention"],
        "lm_head_is_embedding": model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr(),
        "embedding_scale": None,
        "rms_norm_gain": "weight (as stored; no 1 + weight)",
        "tokenizer_adds_bos": bool(getattr(tokenizer, "add_bos_token", False)),
        "tokenizer_bos_eos_pad": [tokenizer.bos_token_id, tokenizer.eos_token_id, tokenizer.pad_token_id],
    }
    out = {
        "source": "transformers " + config["transformers_version"] + ", Qwen2Config from the GGUF",
        "config": relevant,
        "derived": derived,
        "from_gguf_metadata": from_gguf,
    }
    (FIXTURES / "config.json").write_text(json.dumps(out, indent=2) + "\n")


def first(output):
    """A module's output tensor, (B, T, C), whether it returns a tensor or a tuple starting with one."""
    return output[0] if isinstance(output, tuple) else output


def as_f32(values):
    return torch.as_tensor(values).detach().to(torch.float32).contiguous()


@torch.no_grad()
def prompt_tensors(model, tokenizer, sample_ids):
    out = {}
    for i, text in enumerate(PROMPTS):
        ids = torch.tensor([encode(tokenizer, text)])
        assert tokenizer.bos_token_id not in ids[0].tolist()
        hooks, final = [], []
        if i == 0:
            hooks.append(model.model.norm.register_forward_hook(lambda m, a, o: final.append(first(o)[0].clone())))
        logits = model(input_ids=ids).logits[0]  # (T, V)
        for h in hooks:
            h.remove()
        last = logits[-1]
        top = torch.topk(last, N_TOP)
        out[f"prompt{i}.ids"] = as_f32(ids[0])
        out[f"prompt{i}.top_ids"] = as_f32(top.indices)
        out[f"prompt{i}.top_logits"] = as_f32(top.values)
        out[f"prompt{i}.sample_logits"] = as_f32(last[sample_ids])
        out[f"prompt{i}.logsumexp"] = as_f32([torch.logsumexp(last.double(), 0).item()])
        if i == 0:
            out["prompt0.all_sample_logits"] = as_f32(logits[:, sample_ids])
            out["prompt0.final_hidden"] = as_f32(final[0])
        print(f"prompt{i} {text!r}: T={ids.shape[1]} argmax={top.indices[0].item()} "
              f"({tokenizer.decode([top.indices[0].item()])!r}) top={top.values[0].item():.4f}")
    return out


def grad_tensors(model, tokenizer):
    ids = torch.tensor([encode(tokenizer, PROMPTS[0])])
    T = ids.shape[1]
    target = single_id(tokenizer, GRAD_TARGET_TEXT)
    subset = torch.tensor([single_id(tokenizer, t) for t in SUBSET_TEXTS])
    subset_targets = torch.tensor([(3 * t + 1) % len(subset) for t in range(T)])
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        embeds = model.get_input_embeddings()(ids)  # (1, T, C), no scale in Qwen2

    def run(loss_fn):
        x = embeds.detach().clone().requires_grad_(True)
        logits = model(inputs_embeds=x).logits[0]  # (T, V)
        loss = loss_fn(logits)
        loss.backward()
        return loss.detach(), x.grad[0].detach()

    loss_full, d_full = run(lambda lg: F.cross_entropy(lg[-1:], torch.tensor([target])))
    loss_subset, d_subset = run(lambda lg: F.cross_entropy(lg[:, subset], subset_targets))
    print(f"grad: T={T} loss_full={loss_full.item():.6f} loss_subset={loss_subset.item():.6f} "
          f"|d_full|={d_full.norm().item():.6g} |d_subset|={d_subset.norm().item():.6g}")
    return {
        "grad.ids": as_f32(ids[0]),
        "grad.inputs_embeds": as_f32(embeds[0]),
        "grad.target": as_f32([target]),
        "grad.loss_full": as_f32([loss_full.item()]),
        "grad.d_inputs_full": as_f32(d_full),
        "grad.subset_vocab": as_f32(subset),
        "grad.subset_targets": as_f32(subset_targets),
        "grad.loss_subset": as_f32([loss_subset.item()]),
        "grad.d_inputs_subset": as_f32(d_subset),
    }


@torch.no_grad()
def long_tensors(model, tokenizer, sample_ids):
    g = torch.Generator().manual_seed(SEED)
    ids = torch.randint(*LONG_RANGE, (LONG_LENGTH,), generator=g)
    logits = model(input_ids=ids[None]).logits[0, LONG_POSITIONS]  # (P, V)
    print(f"long: T={LONG_LENGTH}, positions {LONG_POSITIONS}")
    return {
        "long.ids": as_f32(ids),
        "long.positions": as_f32(LONG_POSITIONS),
        "long.sample_logits": as_f32(logits[:, sample_ids]),
        "long.logsumexp": as_f32(torch.logsumexp(logits.double(), -1)),
    }


@torch.no_grad()
def greedy_tensors(model, tokenizer):
    out = {}
    for name, text, n in GREEDY:
        ids = torch.tensor([encode(tokenizer, text)])
        result = model.generate(ids, attention_mask=torch.ones_like(ids), do_sample=False, max_new_tokens=n,
                                min_new_tokens=n, pad_token_id=tokenizer.pad_token_id,
                                return_dict_in_generate=True, output_logits=True)
        new = result.sequences[0, ids.shape[1]:]
        assert new.numel() == n
        gaps = [torch.topk(step[0], 2).values for step in result.logits]
        gaps = [(v[0] - v[1]).item() for v in gaps]
        # The same tokens from full forward passes without a cache.
        seq = ids
        for _ in range(n):
            seq = torch.cat([seq, model(input_ids=seq).logits[:, -1:].argmax(-1)], dim=1)
        if not torch.equal(seq[0, ids.shape[1]:], new):
            print(f"WARNING: {name}: generate() and uncached argmax disagree")
        out[f"{name}.prompt_ids"] = as_f32(ids[0])
        out[f"{name}.tokens"] = as_f32(new)
        out[f"{name}.top2_gap"] = as_f32(gaps)
        print(f"{name}: {text!r} -> {tokenizer.decode(new)!r}  (smallest top-2 gap {min(gaps):.4f})")
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("gguf", nargs="?", default=os.environ.get("LEGIBLE_QWEN2_GGUF", str(DEFAULT_MODEL)))
    args = parser.parse_args()

    torch.set_num_threads(1)
    torch.manual_seed(SEED)
    start = time.time()
    model, tokenizer = load(args.gguf)
    print(f"loaded {type(model).__name__} in {time.time() - start:.1f} s")
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_config(model, tokenizer)

    V = model.config.vocab_size
    sample_ids = torch.randperm(V, generator=torch.Generator().manual_seed(SEED))[:N_SAMPLE].sort().values
    tensors = {"sample_ids": as_f32(sample_ids)}
    tensors.update(prompt_tensors(model, tokenizer, sample_ids))
    tensors.update(long_tensors(model, tokenizer, sample_ids))
    tensors.update(grad_tensors(model, tokenizer))
    tensors.update(greedy_tensors(model, tokenizer))
    # One metadata key: safetensors writes several in a random order, so the file would differ run to run.
    save_file(tensors, str(FIXTURES / "reference.safetensors"),
              metadata={"source": "scripts/make_qwen2_reference.py " + pathlib.Path(args.gguf).name})
    (FIXTURES / "reference.safetensors").chmod(0o644)
    for name, t in tensors.items():
        print(f"  {name:28s} {tuple(t.shape)}")
    print(f"done in {time.time() - start:.1f} s")


if __name__ == "__main__":
    main()
