#!/usr/bin/env python3
"""Golden values for the GPT-2 engine, from PyTorch + transformers.

  python scripts/make_reference.py                 # tiny random GPT-2 -> Tests/ModelsTests/Fixtures/gpt2-tiny/
  python scripts/make_reference.py --full OUT_DIR  # GPT-2 124M shape, random weights (about 600 MB; not committed)

Each directory gets a Hugging Face checkpoint (config.json, model.safetensors written by save_pretrained)
and reference.safetensors with a ragged batch and what the model computes on it:
  ids, lengths, targets           the batch, packed row after row (stored as float32)
  logits (N, V), loss             LM head at every position; loss = mean cross-entropy over all positions
  d_inputs (N, C)                 d(loss)/d(inputs_embeds), with inputs_embeds = wte[ids]
  grad.<name>                     weight gradients of that loss (wte only through the LM head)
  subset.*                        head on each example's last token over a few vocabulary rows only
  greedy.prompt, greedy.tokens    greedy continuation from transformers' generate
Each example runs on its own (no padding), which is what a ragged batch must reproduce.
"""
import argparse
import json
import os

import torch
from safetensors.torch import save_file
from transformers import GPT2Config, GPT2LMHeadModel

GRAD_TENSORS = [
    "transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.bias",
    "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_proj.bias",
    "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.weight", "transformer.ln_f.weight",
]


def build(config, seed, perturb):
    torch.manual_seed(seed)
    model = GPT2LMHeadModel(config).float().eval()
    if perturb:
        # Non-trivial LayerNorm gains and biases so every parameter path is exercised.
        with torch.no_grad():
            for name, p in model.named_parameters():
                if name.endswith(".bias"):
                    p.normal_(0, 0.1)
                elif ".ln_" in name or name.startswith("transformer.ln_f"):
                    p.normal_(1, 0.1)
                else:
                    p.normal_(0, 0.1)
    return model


def reference(model, lengths, subset_vocab, seed):
    V = model.config.vocab_size
    g = torch.Generator().manual_seed(seed)
    ids = [torch.randint(0, V, (n,), generator=g) for n in lengths]
    targets = [torch.randint(0, V, (n,), generator=g) for n in lengths]
    wte = model.transformer.wte.weight

    # Full-vocabulary head at every position.
    model.zero_grad()
    embeds = [wte[i].detach().clone().requires_grad_(True) for i in ids]
    logits = [model(inputs_embeds=e[None]).logits[0] for e in embeds]
    flat_logits, flat_targets = torch.cat(logits), torch.cat(targets)
    loss = torch.nn.functional.cross_entropy(flat_logits, flat_targets)
    loss.backward()
    params = dict(model.named_parameters())
    out = {
        "ids": torch.cat(ids).float(), "lengths": torch.tensor(lengths).float(), "targets": flat_targets.float(),
        "logits": flat_logits.detach(), "loss": loss.detach()[None],
        "d_inputs": torch.cat([e.grad for e in embeds]),
    }
    for name in GRAD_TENSORS:
        out["grad." + name.removeprefix("transformer.")] = params[name].grad.detach().clone()

    # Head on the last token of each example, over a few vocabulary rows.
    model.zero_grad()
    vocab = torch.tensor(subset_vocab)
    subset_targets = torch.randint(0, len(subset_vocab), (len(lengths),), generator=g)
    embeds = [wte[i].detach().clone().requires_grad_(True) for i in ids]
    last = torch.stack([model(inputs_embeds=e[None]).logits[0, -1, vocab] for e in embeds])
    subset_loss = torch.nn.functional.cross_entropy(last, subset_targets)
    subset_loss.backward()
    out.update({
        "subset.vocab": vocab.float(), "subset.targets": subset_targets.float(), "subset.logits": last.detach(),
        "subset.loss": subset_loss.detach()[None], "subset.d_inputs": torch.cat([e.grad for e in embeds]),
    })

    prompt = ids[0][:4]
    generated = model.generate(prompt[None], attention_mask=torch.ones(1, len(prompt), dtype=torch.long),
                               max_new_tokens=12, do_sample=False, pad_token_id=0)[0, len(prompt):]
    out.update({"greedy.prompt": prompt.float(), "greedy.tokens": generated.float()})
    return {k: v.contiguous().float() for k, v in out.items()}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--full", metavar="OUT_DIR", help="write the 124M random-weight reference here instead")
    args = parser.parse_args()
    torch.set_grad_enabled(True)
    if args.full:
        out_dir, seed = args.full, 124
        config = GPT2Config()  # n_layer 12, n_head 12, n_embd 768, n_positions 1024, vocab 50257, gelu_new
        model = build(config, seed, perturb=False)
        lengths, subset = [64, 37], [262, 1049, 7818, 50256]
    else:
        out_dir = os.path.join(os.path.dirname(__file__), "..", "Tests", "ModelsTests", "Fixtures", "gpt2-tiny")
        seed = 0
        # A non-power-of-two width (60 = 4 heads of 15) and an odd vocabulary.
        config = GPT2Config(n_layer=2, n_head=4, n_embd=60, n_positions=32, vocab_size=301,
                            activation_function="gelu_new", layer_norm_epsilon=1e-5,
                            bos_token_id=300, eos_token_id=300)
        model = build(config, seed, perturb=True)
        lengths, subset = [7, 3, 12], [5, 17, 200]
    os.makedirs(out_dir, exist_ok=True)
    model.save_pretrained(out_dir, safe_serialization=True)
    # Keep only what a GPT-2 checkpoint needs; generation_config.json is transformers' own.
    gen_config = os.path.join(out_dir, "generation_config.json")
    if os.path.exists(gen_config):
        os.remove(gen_config)
    save_file(reference(model, lengths, subset, seed + 1), os.path.join(out_dir, "reference.safetensors"))
    with open(os.path.join(out_dir, "config.json")) as f:
        saved = json.load(f)
    print(json.dumps({k: saved[k] for k in ("n_layer", "n_head", "n_embd", "vocab_size")}))
    print("wrote", os.path.normpath(out_dir))


if __name__ == "__main__":
    main()
