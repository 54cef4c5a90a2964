#!/usr/bin/env python3
"""Tiny random Llama-family decoders in real Hugging Face format, their GGUF twins, and what transformers computes.

  python scripts/make_tiny_decoders.py [tiny-qwen2] [tiny-llama] [tiny-gemma3]   (no names: all three)

Writes into Tests/ModelsTests/Fixtures/ (each folder is deleted and written afresh):

  tiny-qwen2/        Qwen2Config(vocab 96, width 32, feed-forward 64, 2 layers, 4 query heads, 2 key/value heads,
                     head size 8, context 64, RoPE base 1e6, RMSNorm eps 1e-6, untied head), float32.
                     save_pretrained: config.json, generation_config.json, model.safetensors (one file).
  tiny-qwen2.gguf    the same weights as float32 tensors, written the way llama.cpp's convert_hf_to_gguf.py writes
                     a qwen2 model (Qwen2Model: no q/k permutation, output.weight present since the head is untied).
  tiny-llama/        LlamaConfig(same shapes, RoPE base 10000 with linear scaling, factor 2; tied head; no attention
                     bias), weights rounded to bfloat16 and saved in bfloat16, SHARDED: model-0000N-of-00003
                     .safetensors + model.safetensors.index.json (+ config.json, generation_config.json).
  tiny-llama.gguf    the same (bf16-rounded) values as float32 tensors, written the way convert_hf_to_gguf.py's
                     LlamaModel writes them: attn_q / attn_k rows permuted by LlamaModel.permute (per head, the
                     rotary halves interleaved), no output.weight (tied), llama.rope.scaling.* keys.
  tiny-gemma3/       Gemma3TextConfig (model_type "gemma3_text", Gemma3ForCausalLM): vocab 96, width 32, feed-forward
                     64, 3 layers, 4 query heads, 2 key/value heads, head size 8, context 64, sliding window 4,
                     layer_types [sliding, full, sliding] (sliding_window_pattern 2), query_pre_attn_scalar 16 (not
                     head size 8: scores are scaled by 1/4, not 1/sqrt(8)), RoPE base 1e6 on full-attention layers and
                     10000 on sliding ones, RMSNorm eps 1e-6, gelu_pytorch_tanh, no soft-capping, tied head; float32.
                     save_pretrained: config.json, generation_config.json, model.safetensors (one file). No GGUF twin.
                     transformers 5 writes the RoPE bases as rope_parameters {"full_attention": {...},
                     "sliding_attention": {...}} and the pattern as the layer_types list; it also writes
                     "sliding_window_pattern" and "_sliding_window_pattern" (the script passes
                     sliding_window_pattern=2 so that they agree with layer_types; without it config.json would say
                     "_sliding_window_pattern": 6).
                     The sliding mask is transformers' kv > q - sliding_window: each query sees itself and the 3
                     tokens before it, so ids0 (11 tokens) and ids1 (5 tokens) are both cut.

  GGUF metadata, in the order convert_hf_to_gguf.py writes it:
    general.architecture, general.type ("model"), general.name,
    {arch}.block_count, {arch}.context_length, {arch}.embedding_length, {arch}.feed_forward_length,
    {arch}.attention.head_count, {arch}.attention.head_count_kv, {arch}.rope.freq_base,
    {arch}.attention.layer_norm_rms_epsilon, general.file_type (0 = all F32),
    llama only: llama.vocab_size, llama.rope.dimension_count, llama.rope.scaling.type ("linear"),
                llama.rope.scaling.factor,
    tokenizer.ggml.model ("gpt2"), tokenizer.ggml.pre ("default"), tokenizer.ggml.tokens (96 strings),
    tokenizer.ggml.token_type (96 x 1 = normal), general.quantization_version (2).
  The token list is a stand-in, not a working tokenizer: byte-level spellings of the 94 printable ASCII characters
  "!".."~", then "Ġ" (space) and "Ċ" (newline); no merges, no special-token ids. Tensor names come from
  gguf.get_tensor_name_map (token_embd, blk.N.attn_norm, attn_q, attn_k, attn_v (+ .bias for Qwen2),
  attn_output, ffn_norm, ffn_gate, ffn_up, ffn_down, output_norm, output).

  Each folder's reference.safetensors (float32; ids stored as float32), from the float32 model with eager attention:
    ids0 (11,), ids1 (5,)            seeded random ids
    logits0 (11, 96), logits1 (5, 96)    logits at every position, each sequence run on its own
    grad.inputs_embeds (11, 32)      embed_tokens(ids0); for Gemma 3 that is the SCALED embedding, the table row times
                                     sqrt(32) rounded to float32 (5.656854), what the first layer is fed
    grad.target (1,)                 a seeded random id
    grad.d_inputs (11, 32)           d cross_entropy(logits at the LAST position, target) / d inputs_embeds
  For tiny-llama every number is computed in float32 from the bf16-rounded weights, so loading the bf16 shards
  back in float32 reproduces it exactly.

Random init (seeded): embeddings N(0, 0.4^2), linear weights N(0, 1/fan_in), RMSNorm gains 1 + 0.1 N(0, 1),
biases 0.1 N(0, 1). Gemma's RMSNorm multiplies by 1 + w, so there the stored w is 0.1 N(0, 1) (the same gains); that
covers input/post_attention/pre_feedforward/post_feedforward_layernorm, q_norm, k_norm and the final norm.
The script checks its own output: the GGUF twins read back with gguf.GGUFReader (and, for llama, un-permuted)
equal the Hugging Face tensors bit for bit; transformers loads each folder back (and each GGUF, through its own GGUF
loader and un-permutation, with the GGUF's rope.scaling keys put back into the config by hand because
transformers' GGUF loader drops them) and reproduces the reference logits. For tiny-gemma3 it also
checks that the Gemma-specific settings matter: the logits move when the window is widened to 64, when
query_pre_attn_scalar is set to the head size, when the two RoPE bases are swapped, when every layer is sliding, and
when the embeddings are fed unscaled (the maximum differences are printed).
Run with the project's venv (torch, transformers 5, gguf, safetensors, accelerate). Takes a few seconds.
"""
import copy
import json
import math
import pathlib
import shutil
import sys

import gguf
import numpy as np
import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from transformers import (AutoModelForCausalLM, Gemma3ForCausalLM, Gemma3TextConfig, LlamaConfig, LlamaForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM)

ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "ModelsTests" / "Fixtures"
SEED = 0
LENGTHS = (11, 5)
SHARD_BYTES = 20_000  # the bf16 llama is about 43 KB: three shards

SHAPES = dict(vocab_size=96, hidden_size=32, intermediate_size=64, num_hidden_layers=2, num_attention_heads=4,
              num_key_value_heads=2, max_position_embeddings=64)

# 94 printable ASCII characters, then space and newline as byte-level BPE spells them.
TOKENS = [chr(c) for c in range(33, 127)] + ["\u0120", "\u010a"]
assert len(TOKENS) == SHAPES["vocab_size"] and len(set(TOKENS)) == len(TOKENS)


def qwen2_config():
    return Qwen2Config(**SHAPES, rope_theta=1e6, rms_norm_eps=1e-6, tie_word_embeddings=False)


def llama_config():
    return LlamaConfig(**SHAPES, rope_theta=10000.0, rope_scaling={"rope_type": "linear", "factor": 2.0},
                       rms_norm_eps=1e-6, tie_word_embeddings=True, attention_bias=False)


def gemma3_config():
    return Gemma3TextConfig(**{**SHAPES, "num_hidden_layers": 3}, head_dim=8, sliding_window=4,
                            layer_types=["sliding_attention", "full_attention", "sliding_attention"],
                            sliding_window_pattern=2, query_pre_attn_scalar=16,
                            rope_parameters={"full_attention": {"rope_type": "default", "rope_theta": 1e6},
                                             "sliding_attention": {"rope_type": "default", "rope_theta": 10000.0}},
                            rms_norm_eps=1e-6, hidden_activation="gelu_pytorch_tanh", final_logit_softcapping=None,
                            attn_logit_softcapping=None, tie_word_embeddings=True)


def build(cls, config, seed, bf16, norm_offset=1.0):
    torch.manual_seed(seed)
    model = cls._from_config(config, attn_implementation="eager", dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for name, p in model.named_parameters():  # a tied head appears once, as embed_tokens
            noise = torch.randn(p.shape, generator=g)
            if name.endswith("norm.weight"):
                p.copy_(norm_offset + 0.1 * noise)
            elif name.endswith(".bias"):
                p.copy_(0.1 * noise)
            elif "embed_tokens" in name:
                p.copy_(0.4 * noise)
            else:
                p.copy_(noise / math.sqrt(p.shape[1]))
            if bf16:
                p.copy_(p.to(torch.bfloat16).to(torch.float32))
    if config.tie_word_embeddings:
        assert model.lm_head.weight.data_ptr() == model.model.embed_tokens.weight.data_ptr()
    return model


def reference(model, seed):
    V = model.config.vocab_size
    g = torch.Generator().manual_seed(seed + 1)
    ids = [torch.randint(0, V, (n,), generator=g) for n in LENGTHS]
    target = torch.randint(0, V, (1,), generator=g)
    out = {}
    with torch.no_grad():
        for k, x in enumerate(ids):
            out[f"ids{k}"] = x.float()
            out[f"logits{k}"] = model(input_ids=x[None]).logits[0].float().contiguous()
    embeds = model.get_input_embeddings()(ids[0][None]).detach().clone().requires_grad_(True)
    logits = model(inputs_embeds=embeds).logits[0]
    loss = F.cross_entropy(logits[-1:], target)
    (d_inputs,) = torch.autograd.grad(loss, embeds)
    out["grad.inputs_embeds"] = embeds[0].detach().float().contiguous()
    out["grad.target"] = target.float()
    out["grad.d_inputs"] = d_inputs[0].float().contiguous()
    print(f"  loss={loss.item():.6f} |d_inputs|={d_inputs.norm().item():.6g} "
          f"logits0 std={out['logits0'].std().item():.3f}")
    return out


def permute(weights, n_head, n_head_kv):
    """convert_hf_to_gguf.py's LlamaModel.permute."""
    if n_head_kv is not None and n_head != n_head_kv:
        n_head = n_head_kv
    return (weights.reshape(n_head, 2, weights.shape[0] // n_head // 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def unpermute(weights, n_head):
    """The inverse of permute(weights, n_head, n_head): back to Hugging Face's rotate_half row order."""
    return (weights.reshape(n_head, weights.shape[0] // n_head // 2, 2, *weights.shape[1:])
            .swapaxes(1, 2)
            .reshape(weights.shape))


def gguf_tensors(model, arch):
    """Hugging Face state dict -> {GGUF name: float32 array}, as convert_hf_to_gguf.py maps and modifies it."""
    config = model.config
    name_map = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    n_head, n_kv = config.num_attention_heads, config.num_key_value_heads
    out = {}
    for name, t in model.state_dict().items():
        if config.tie_word_embeddings and name == "lm_head.weight":
            continue  # save_pretrained does not write it, so the converter never sees it
        t = t.detach().to(torch.float32)
        if arch == gguf.MODEL_ARCH.LLAMA:
            if name.endswith(("q_proj.weight", "q_proj.bias")):
                t = permute(t, n_head, n_head)
            if name.endswith(("k_proj.weight", "k_proj.bias")):
                t = permute(t, n_head, n_kv)
        new = name_map.get_name(name, try_suffixes=(".weight", ".bias"))
        assert new is not None, name
        out[new] = t.numpy().copy()
    return out


def write_gguf(path, model, arch):
    config = model.config
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    tensors = gguf_tensors(model, arch)
    w = gguf.GGUFWriter(str(path), arch_name)
    w.add_type(gguf.GGUFType.MODEL)
    w.add_name(path.stem)
    w.add_block_count(config.num_hidden_layers)
    w.add_context_length(config.max_position_embeddings)
    w.add_embedding_length(config.hidden_size)
    w.add_feed_forward_length(config.intermediate_size)
    w.add_head_count(config.num_attention_heads)
    w.add_head_count_kv(config.num_key_value_heads)
    rope = config.rope_parameters
    w.add_rope_freq_base(float(rope["rope_theta"]))
    w.add_layer_norm_rms_eps(config.rms_norm_eps)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    if arch == gguf.MODEL_ARCH.LLAMA:
        w.add_vocab_size(config.vocab_size)
        w.add_rope_dimension_count(config.head_dim)
        if rope["rope_type"] == "linear":
            w.add_rope_scaling_type(gguf.RopeScalingType.LINEAR)
            w.add_rope_scaling_factor(rope["factor"])
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre("default")
    w.add_token_list(TOKENS)
    w.add_token_types([gguf.TokenType.NORMAL] * len(TOKENS))
    w.add_quantization_version(gguf.GGML_QUANT_VERSION)
    for name, value in tensors.items():
        w.add_tensor(name, value)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    return tensors


def check_gguf(path, model, arch, written):
    """Read the GGUF back: metadata, and every tensor equal to the Hugging Face one (un-permuted for llama)."""
    reader = gguf.GGUFReader(str(path))
    config = model.config
    arch_name = gguf.MODEL_ARCH_NAMES[arch]
    assert reader.fields["general.architecture"].contents() == arch_name
    assert reader.fields[f"{arch_name}.attention.head_count_kv"].contents() == config.num_key_value_heads
    assert reader.fields["tokenizer.ggml.tokens"].contents() == TOKENS
    names = [t.name for t in reader.tensors]
    assert names == list(written), names
    assert ("output.weight" in names) == (not config.tie_word_embeddings)
    name_map = gguf.get_tensor_name_map(arch, config.num_hidden_layers)
    hf = {name_map.get_name(k, try_suffixes=(".weight", ".bias")): v for k, v in model.state_dict().items()
          if not (config.tie_word_embeddings and k == "lm_head.weight")}
    for t in reader.tensors:
        assert t.tensor_type == gguf.GGMLQuantizationType.F32, t.name
        data = np.array(t.data)
        assert list(t.shape) == list(reversed(data.shape))  # GGUF dims are innermost first
        if arch == gguf.MODEL_ARCH.LLAMA and (".attn_q." in t.name or ".attn_k." in t.name):
            heads = config.num_attention_heads if ".attn_q." in t.name else config.num_key_value_heads
            assert not np.array_equal(data, hf[t.name].numpy()), f"{t.name} was not permuted"
            data = unpermute(data, heads)
        assert np.array_equal(data, hf[t.name].numpy()), t.name
    fields = {k: f.contents() for k, f in reader.fields.items()
              if not k.startswith("GGUF.") and k not in ("tokenizer.ggml.tokens", "tokenizer.ggml.token_type")}
    return fields


def check_transformers(folder, gguf_path, model, ref, cls):
    """transformers loads the folder (and, separately, the GGUF) back and reproduces the reference."""
    check_folder(folder, ref, cls)
    # transformers' own GGUF loader un-permutes attn_q / attn_k for llama (LlamaTensorProcessor); its weights must
    # be the Hugging Face ones. It ignores llama.rope.scaling.* (its config gets plain RoPE), so for the llama twin
    # the logits are compared after putting the GGUF's scaling into the config by hand.
    from_gguf = AutoModelForCausalLM.from_pretrained(str(gguf_path.parent), gguf_file=gguf_path.name,
                                                     dtype=torch.float32, attn_implementation="eager").eval()
    a, b = model.state_dict(), from_gguf.state_dict()
    assert a.keys() == b.keys(), set(a) ^ set(b)
    for key in a:
        assert torch.equal(a[key], b[key]), key
    assert from_gguf.config.tie_word_embeddings == model.config.tie_word_embeddings
    gguf_rope = dict(from_gguf.config.rope_parameters)
    if gguf_rope.get("rope_type", "default") == "default":
        # Put the GGUF's llama.rope.scaling.* back by hand: then the GGUF alone gives the reference.
        reader = gguf.GGUFReader(str(gguf_path))
        arch_name = reader.fields["general.architecture"].contents()
        if f"{arch_name}.rope.scaling.type" in reader.fields:
            config = copy.deepcopy(from_gguf.config)
            config.rope_parameters = {**gguf_rope,
                                      "rope_type": reader.fields[f"{arch_name}.rope.scaling.type"].contents(),
                                      "factor": reader.fields[f"{arch_name}.rope.scaling.factor"].contents()}
            scaled = cls._from_config(config, attn_implementation="eager", dtype=torch.float32).eval()
            scaled.load_state_dict(from_gguf.state_dict())
            from_gguf = scaled
    with torch.no_grad():
        logits = from_gguf(input_ids=ref["ids0"].long()[None]).logits[0]
    assert torch.equal(logits, ref["logits0"]), (logits - ref["logits0"]).abs().max()
    return gguf_rope


def check_folder(folder, ref, cls):
    """transformers loads the folder back and reproduces the reference logits exactly."""
    loaded = AutoModelForCausalLM.from_pretrained(str(folder), dtype=torch.float32,
                                                  attn_implementation="eager").eval()
    assert type(loaded) is cls, type(loaded)
    with torch.no_grad():
        for k in range(len(LENGTHS)):
            logits = loaded(input_ids=ref[f"ids{k}"].long()[None]).logits[0]
            assert torch.equal(logits, ref[f"logits{k}"]), (folder.name, k, (logits - ref[f"logits{k}"]).abs().max())
    return loaded


def check_gemma3(folder, model, ref):
    """What tiny-gemma3 must exercise: config.json as saved, the scaled embeddings, and that each Gemma-specific
    setting changes the logits."""
    config = model.config
    saved = json.loads((folder / "config.json").read_text())
    assert saved["model_type"] == "gemma3_text" and saved["architectures"] == ["Gemma3ForCausalLM"], saved
    assert saved["layer_types"] == ["sliding_attention", "full_attention", "sliding_attention"], saved
    assert saved["sliding_window"] == 4 and saved["query_pre_attn_scalar"] == 16 and saved["head_dim"] == 8, saved
    assert saved["rope_parameters"] == {"full_attention": {"rope_theta": 1e6, "rope_type": "default"},
                                        "sliding_attention": {"rope_theta": 10000.0, "rope_type": "default"}}, saved
    assert saved["final_logit_softcapping"] is None and saved["attn_logit_softcapping"] is None, saved
    assert saved["tie_word_embeddings"] is True and saved["hidden_activation"] == "gelu_pytorch_tanh", saved
    tensors = load_file(str(folder / "model.safetensors"))
    assert "lm_head.weight" not in tensors and all(t.dtype == torch.float32 for t in tensors.values())
    norms = [k for k in tensors if k.endswith("norm.weight")]
    assert len(norms) == 6 * config.num_hidden_layers + 1, norms
    assert all(tensors[k].abs().max() > 0.05 for k in norms), "Gemma stores w for a gain of 1 + w"
    # grad.inputs_embeds is the scaled embedding: table row times sqrt(hidden) rounded to float32, product in float32.
    ids0 = ref["ids0"].long()
    scale = torch.tensor(config.hidden_size ** 0.5, dtype=torch.float32)
    table = tensors["model.embed_tokens.weight"]
    assert torch.equal(ref["grad.inputs_embeds"], table[ids0] * scale)
    print(f"  embed scale (float32): {scale.item()!r}")
    with torch.no_grad():
        logits = model(inputs_embeds=ref["grad.inputs_embeds"][None]).logits[0]
        assert torch.equal(logits, ref["logits0"])

    def logits_with(label, change=None, unscaled=False):
        variant = copy.deepcopy(config)
        if change:
            change(variant)
        other = Gemma3ForCausalLM._from_config(variant, attn_implementation="eager", dtype=torch.float32).eval()
        other.load_state_dict(model.state_dict())
        with torch.no_grad():
            diffs = []
            for k in range(len(LENGTHS)):
                ids = ref[f"ids{k}"].long()
                if unscaled:
                    out = other(inputs_embeds=table[ids][None]).logits[0]
                else:
                    out = other(input_ids=ids[None]).logits[0]
                diffs.append((out - ref[f"logits{k}"]).abs().max().item())
        print(f"  {label}: max |logits - reference| = {diffs[0]:.4g} (ids0), {diffs[1]:.4g} (ids1)")
        assert diffs[0] > 1e-2, label
        return diffs

    def set_rope(c, full, sliding):
        c.rope_parameters = {"full_attention": {"rope_type": "default", "rope_theta": full},
                             "sliding_attention": {"rope_type": "default", "rope_theta": sliding}}

    logits_with("sliding_window 64 (no cut)", lambda c: setattr(c, "sliding_window", 64))
    logits_with("query_pre_attn_scalar 8 (= head_dim)", lambda c: setattr(c, "query_pre_attn_scalar", 8))
    logits_with("RoPE bases swapped (full 1e4, sliding 1e6)", lambda c: set_rope(c, 10000.0, 1e6))
    logits_with("RoPE base 1e6 everywhere", lambda c: set_rope(c, 1e6, 1e6))
    logits_with("RoPE base 1e4 everywhere", lambda c: set_rope(c, 10000.0, 10000.0))
    logits_with("every layer sliding", lambda c: setattr(c, "layer_types", ["sliding_attention"] * 3))
    logits_with("embeddings not scaled by sqrt(32)", unscaled=True)
    print(f"  config.json: {json.dumps(saved, sort_keys=True)}")


def make(name, cls, config, arch, seed, bf16, norm_offset=1.0):
    print(f"{name}:")
    folder, gguf_path = FIXTURES / name, FIXTURES / f"{name}.gguf"
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    model = build(cls, config, seed, bf16, norm_offset)
    ref = reference(model, seed)
    if bf16:
        saved = build(cls, config, seed, bf16, norm_offset).to(torch.bfloat16)
        saved.save_pretrained(str(folder), max_shard_size=SHARD_BYTES)
        shards = sorted(folder.glob("model-*-of-*.safetensors"))
        assert len(shards) >= 2 and (folder / "model.safetensors.index.json").is_file(), list(folder.iterdir())
        for shard in shards:
            assert all(t.dtype == torch.bfloat16 for t in load_file(str(shard)).values())
    else:
        model.save_pretrained(str(folder))
        assert all(t.dtype == torch.float32 for t in load_file(str(folder / "model.safetensors")).values())
    # One metadata key: safetensors writes several in a random order, so the file would differ run to run.
    save_file(ref, str(folder / "reference.safetensors"), metadata={"source": f"scripts/make_tiny_decoders.py {name}"})
    for path in folder.glob("*.safetensors"):
        path.chmod(0o644)  # safetensors creates files readable by their owner only
    if arch is None:
        check_folder(folder, ref, cls)
        gguf_files = []
    else:
        written = write_gguf(gguf_path, model, arch)
        fields = check_gguf(gguf_path, model, arch, written)
        gguf_rope = check_transformers(folder, gguf_path, model, ref, cls)
        print(f"  rope as transformers reads the GGUF: {gguf_rope}")
        print(f"  GGUF metadata: {json.dumps(fields, default=str)}")
        gguf_files = [gguf_path]
    for path in sorted(folder.iterdir()) + gguf_files:
        print(f"  {path.relative_to(FIXTURES)}: {path.stat().st_size} bytes")
    return model, ref


def main(names):
    torch.set_num_threads(1)
    known = ("tiny-qwen2", "tiny-llama", "tiny-gemma3")
    names = names or known
    assert set(names) <= set(known), f"unknown fixture in {names}; known: {known}"
    if "tiny-qwen2" in names:
        make("tiny-qwen2", Qwen2ForCausalLM, qwen2_config(), gguf.MODEL_ARCH.QWEN2, SEED, bf16=False)
    if "tiny-llama" in names:
        make("tiny-llama", LlamaForCausalLM, llama_config(), gguf.MODEL_ARCH.LLAMA, SEED + 100, bf16=True)
    if "tiny-gemma3" in names:
        model, ref = make("tiny-gemma3", Gemma3ForCausalLM, gemma3_config(), None, SEED + 200, bf16=False,
                          norm_offset=0.0)
        check_gemma3(FIXTURES / "tiny-gemma3", model, ref)


if __name__ == "__main__":
    main(sys.argv[1:])
