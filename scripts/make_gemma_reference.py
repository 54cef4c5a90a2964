#!/usr/bin/env python3
"""Golden values for the Gemma 3 engine and tokenizer, from PyTorch + transformers on the real 270M GGUF.

  python scripts/make_gemma_reference.py [GGUF]

GGUF defaults to $LEGIBLE_GEMMA_GGUF, else models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf under the repository
root (fetch it with scripts/fetch-model gemma-3-270m). transformers dequantizes every tensor to float32 (the
values the Swift GGUF reader produces) and the model runs in float32 with eager attention on the CPU.
Writes into Tests/ModelsTests/Fixtures/gemma3/ (about 0.65 MB):

  config.json      what transformers derives for this file beyond the GGUF metadata (layer types, RoPE bases,
                   attention scale, soft-capping, embedding scale, ...), and which keys came from the GGUF
  tokens.json      tokenizer special ids and flags; per text: ids (no specials), ids_with_special (as
                   tokenizer.encode does by default), pieces, and decode() of both id lists
  reference.safetensors, float32 throughout (ids are stored as float32; every id is below 2^24):
    sample_ids (S,)                  S = 4096 distinct vocabulary ids, seeded, sorted; shared by all prompts
    prompt{i}.ids (T_i,)             prompt i with BOS, i = 0..3
    prompt{i}.top_ids, .top_logits (50,)    last position: the 50 largest logits, largest first
    prompt{i}.sample_logits (S,)     last position: logits at sample_ids
    prompt{i}.logsumexp (1,)         last position: log-sum-exp over all V logits, computed in float64
    prompt0.all_sample_logits (T_0, S)      every position: logits at sample_ids
    prompt0.layer_outputs (L, T_0, C)       output of each decoder layer (residual stream, before the final norm)
    prompt0.final_hidden (T_0, C)           after the final norm (the LM head's input)
    grad.ids (T,), grad.inputs_embeds (T, C)   prompt 0; inputs_embeds = embed_tokens(ids), i.e. already
                                     multiplied by the embedding scale sqrt(C); the gradients are taken at it
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
    greedy2.prompt_ids, greedy2.tokens (12,), greedy2.top2_gap (12,)
    long.ids (600,)                  BOS + 599 seeded random ids in [1000, 200000): longer than the sliding
                                     window (512), so position 512 is the first whose window no longer holds BOS
    long.positions (P,)              P = 7 positions around the window's edge, and the last
    long.sample_logits (P, S), long.logsumexp (P,), long.top_ids (P, 10), long.top_logits (P, 10)

Run with the project's venv (torch, transformers 5, gguf, sentencepiece). The seeds are fixed; running it again
on the same machine rewrites the same values (at most last-bit differences from the BLAS between runs).
"""
import argparse
import json
import os
import pathlib

import torch
import torch.nn.functional as F
from safetensors.torch import save_file
from transformers import AutoModelForCausalLM, AutoTokenizer

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "gemma-3-270m" / "gemma-3-270m-q4_k_m.gguf"
FIXTURES = ROOT / "Tests" / "ModelsTests" / "Fixtures" / "gemma3"
SEED = 0

TEXTS = [
    "Hello world",
    "The quick brown fox jumps over the lazy dog.",
    "a\n\nb",
    "  two spaces",
    "trailing ",
    " leading",
    "x   y\tz\n",
    "\ttab and\nnewline",
    "3.14159 and 2024-11-23",
    "1234567",
    "def f(x):\n    return x**2",
    "café naïve",
    "日本語のテキスト",
    "👍🏽 ok",
    "مرحبا بالعالم",
    "𠀋𪚥 \x07bell",            # no piece for these: byte-fallback tokens <0xF0> ...
    "see <bos> and <eos> here",  # transformers matches special-token text inside a string
    "<start_of_turn>user\nhi<end_of_turn>\n",
    "",
]

PROMPTS = [
    "The capital of France is",
    "Alan Turing theorized that computers would one day become",
    "def fibonacci(n):",
    "日本の首都は",
]
N_TOP = 50
N_SAMPLE = 4096
GRAD_TARGET_TEXT = " Paris"
SUBSET_TEXTS = [" Paris", " London", " the", " a", "."]
LONG_LENGTH = 600
LONG_POSITIONS = [255, 510, 511, 512, 513, 514, LONG_LENGTH - 1]
GREEDY = [("greedy", PROMPTS[1], 20), ("greedy2", PROMPTS[0], 12)]

CONFIG_KEYS = [
    "vocab_size", "hidden_size", "intermediate_size", "num_hidden_layers", "num_attention_heads",
    "num_key_value_heads", "head_dim", "hidden_activation", "max_position_embeddings", "rms_norm_eps",
    "tie_word_embeddings", "layer_types", "sliding_window", "rope_parameters", "query_pre_attn_scalar",
    "attn_logit_softcapping", "final_logit_softcapping", "attention_bias", "use_bidirectional_attention",
    "bos_token_id", "eos_token_id", "pad_token_id",
]


def load(path):
    path = pathlib.Path(path)
    if not path.is_file():
        raise SystemExit(f"no GGUF at {path}: run scripts/fetch-model gemma-3-270m or set LEGIBLE_GEMMA_GGUF")
    model = AutoModelForCausalLM.from_pretrained(str(path.parent), gguf_file=path.name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(path.parent), gguf_file=path.name)
    return model, tokenizer


def single_id(tokenizer, text):
    ids = tokenizer.encode(text, add_special_tokens=False)
    assert len(ids) == 1, f"{text!r} is not one token: {ids}"
    return ids[0]


def write_config(model):
    from transformers.integrations.ggml import GGUF_CONFIG_MAPPING

    config = model.config.to_dict()
    relevant = {k: config[k] for k in CONFIG_KEYS}
    rope = config["rope_parameters"]
    # Config keys read from GGUF metadata; transformers renames rope.freq_base to the full-attention RoPE base
    # and sets tie_word_embeddings when the file has no output.weight. Everything else is a default or derived.
    from_gguf = sorted(v for v in GGUF_CONFIG_MAPPING["gemma3"].values() if v is not None and v != "rope_theta")
    from_gguf += ["rope_parameters.full_attention.rope_theta", "tie_word_embeddings"]
    derived = {
        # Older names for the same values, as Hugging Face config.json files spell them.
        "rope_theta": rope["full_attention"]["rope_theta"],
        "rope_local_base_freq": rope["sliding_attention"]["rope_theta"],
        "rope_scaling": None if rope["full_attention"]["rope_type"] == "default" else rope["full_attention"],
        "sliding_window_pattern": config.get("_sliding_window_pattern"),
        # What the modules compute from the config.
        "attention_scaling": model.model.layers[0].self_attn.scaling,
        "embed_scale_float32": model.model.embed_tokens.embed_scale.item(),
        "full_attention_layers": [i for i, t in enumerate(config["layer_types"]) if t == "full_attention"],
        "rms_norm_gain": "1 + weight (transformers subtracts 1 from the GGUF's *norm.weight when loading)",
    }
    out = {
        "source": "transformers " + config["transformers_version"] + ", Gemma3TextConfig from the GGUF",
        "config": relevant,
        "derived": derived,
        "from_gguf_metadata": from_gguf,
    }
    (FIXTURES / "config.json").write_text(json.dumps(out, indent=2) + "\n")


def write_tokens(tokenizer):
    cases = []
    for text in TEXTS:
        ids = tokenizer.encode(text, add_special_tokens=False)
        with_special = tokenizer.encode(text)
        cases.append({
            "text": text,
            "ids": ids,
            "ids_with_special": with_special,
            "pieces": tokenizer.convert_ids_to_tokens(ids),
            "decoded": tokenizer.decode(ids),
            "decoded_with_special": tokenizer.decode(with_special),
        })
    out = {
        "tokenizer": {
            "class": type(tokenizer).__name__,
            "vocab_size": len(tokenizer),
            "bos_id": tokenizer.bos_token_id,
            "eos_id": tokenizer.eos_token_id,
            "pad_id": tokenizer.pad_token_id,
            "unk_id": tokenizer.unk_token_id,
            "adds_bos": bool(getattr(tokenizer, "add_bos_token", False)),
            "adds_eos": bool(getattr(tokenizer, "add_eos_token", False)),
        },
        "cases": cases,
    }
    # One case per line, so a change shows as a one-line diff.
    lines = ["{", '"tokenizer": ' + json.dumps(out["tokenizer"]) + ",", '"cases": [']
    lines += [json.dumps(c, ensure_ascii=False) + ("," if k + 1 < len(cases) else "") for k, c in enumerate(cases)]
    lines += ["]", "}"]
    text = "\n".join(lines) + "\n"
    assert json.loads(text) == out
    (FIXTURES / "tokens.json").write_text(text)


def first(output):
    """A module's output tensor, (B, T, C), whether it returns a tensor or a tuple starting with one."""
    return output[0] if isinstance(output, tuple) else output


def as_f32(values):
    return torch.as_tensor(values).detach().to(torch.float32).contiguous()


@torch.no_grad()
def prompt_tensors(model, tokenizer, sample_ids):
    out = {}
    for i, text in enumerate(PROMPTS):
        ids = torch.tensor([tokenizer.encode(text)])
        assert ids[0, 0].item() == tokenizer.bos_token_id
        hooks, layer_outputs, final = [], [], []
        if i == 0:
            for layer in model.model.layers:
                hooks.append(layer.register_forward_hook(lambda m, a, o: layer_outputs.append(first(o)[0].clone())))
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
            out["prompt0.layer_outputs"] = as_f32(torch.stack(layer_outputs))
            out["prompt0.final_hidden"] = as_f32(final[0])
        print(f"prompt{i} {text!r}: T={ids.shape[1]} argmax={top.indices[0].item()} "
              f"({tokenizer.decode([top.indices[0].item()])!r}) top={top.values[0].item():.4f}")
    return out


def grad_tensors(model, tokenizer):
    ids = torch.tensor([tokenizer.encode(PROMPTS[0])])
    T = ids.shape[1]
    target = single_id(tokenizer, GRAD_TARGET_TEXT)
    subset = torch.tensor([single_id(tokenizer, t) for t in SUBSET_TEXTS])
    subset_targets = torch.tensor([(3 * t + 1) % len(subset) for t in range(T)])
    for p in model.parameters():
        p.requires_grad_(False)
    with torch.no_grad():
        embeds = model.get_input_embeddings()(ids)  # (1, T, C), scaled by sqrt(C)

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
    ids = torch.cat([torch.tensor([tokenizer.bos_token_id]), torch.randint(1000, 200000, (LONG_LENGTH - 1,), generator=g)])
    logits = model(input_ids=ids[None]).logits[0, LONG_POSITIONS]  # (P, V)
    top = torch.topk(logits, 10, dim=-1)
    print(f"long: T={LONG_LENGTH}, positions {LONG_POSITIONS}")
    return {
        "long.ids": as_f32(ids),
        "long.positions": as_f32(LONG_POSITIONS),
        "long.sample_logits": as_f32(logits[:, sample_ids]),
        "long.logsumexp": as_f32(torch.logsumexp(logits.double(), -1)),
        "long.top_ids": as_f32(top.indices),
        "long.top_logits": as_f32(top.values),
    }


@torch.no_grad()
def greedy_tensors(model, tokenizer):
    out = {}
    for name, text, n in GREEDY:
        ids = torch.tensor([tokenizer.encode(text)])
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
    parser.add_argument("gguf", nargs="?", default=os.environ.get("LEGIBLE_GEMMA_GGUF", str(DEFAULT_MODEL)))
    args = parser.parse_args()

    torch.manual_seed(SEED)
    model, tokenizer = load(args.gguf)
    FIXTURES.mkdir(parents=True, exist_ok=True)
    write_config(model)
    write_tokens(tokenizer)

    V = model.config.vocab_size
    sample_ids = torch.randperm(V, generator=torch.Generator().manual_seed(SEED))[:N_SAMPLE].sort().values
    tensors = {"sample_ids": as_f32(sample_ids)}
    tensors.update(prompt_tensors(model, tokenizer, sample_ids))
    tensors.update(long_tensors(model, tokenizer, sample_ids))
    tensors.update(grad_tensors(model, tokenizer))
    tensors.update(greedy_tensors(model, tokenizer))
    save_file(tensors, str(FIXTURES / "reference.safetensors"),
              metadata={"source": "scripts/make_gemma_reference.py", "gguf": pathlib.Path(args.gguf).name})
    for name, t in tensors.items():
        print(f"  {name:28s} {tuple(t.shape)}")


if __name__ == "__main__":
    main()
