#!/usr/bin/env python3
"""Checks Legible's PEFT export and import against Hugging Face PEFT itself, and writes the fixture the Swift tests
read (Tests/TuningTests/Fixtures/peft/).

    python scripts/make_peft_reference.py [--legible .build/release/legible] [--accuracy-prompt PROMPT_FILE]

For two models, the tiny random GPT-2 of Tests/ModelsTests/Fixtures/gpt2-tiny (token ids, no tokenizer) and Gemma 3
270M (models/gemma-3-270m, the GGUF dequantized to float32 by transformers, SST-2 test sentences through its own
tokenizer and PEZ's template):

1. PEFT makes an adapter: get_peft_model(model, PromptTuningConfig(CAUSAL_LM, 5 virtual tokens)), its prompt set
   to fixed seeded vectors, save_pretrained -> Fixtures/peft/<model>-adapter/ (what `legible import` reads in the
   tests).
2. PEFT loads it (PeftModel.from_pretrained) and scores each example with the virtual tokens first, <bos> after
   them: the label words' log-probabilities normalized over the label words, as Legible scores classes
   (peft_placement). The same vectors after <bos>, as a Legible template puts them, are scored through the base
   model's inputs_embeds (legible_placement).
3. With --legible, for Gemma: `legible import` reads the PEFT-made adapter into a prompt file, `legible export`
   writes it back as an adapter, PEFT loads that one and scores again; the largest difference from step 2 is
   recorded (it must be 0: the vectors cross unchanged).
4. With --accuracy-prompt (a soft prompt tuned on Gemma 3 270M for SST-2, PEZ's template): the prompt's test
   accuracy on 200 SST-2 test sentences with each placement, through PyTorch (recorded, for the README).

Writes Fixtures/peft/reference.json. Run with the project's venv (torch, transformers 5, peft, gguf, safetensors,
sentencepiece). Seeds are fixed. Never needed to build or test Legible.
"""
import argparse
import csv
import json
import math
import pathlib
import subprocess
import tempfile

import torch
from peft import PeftModel, PromptTuningConfig, TaskType, get_peft_model
from safetensors.torch import load_file
from transformers import AutoModelForCausalLM, AutoTokenizer, GPT2LMHeadModel

ROOT = pathlib.Path(__file__).resolve().parent.parent
OUT = ROOT / "Tests/TuningTests/Fixtures/peft"
VIRTUAL = 5
TEMPLATE_AFTER = " It was"  # PEZ's template "{prompt} {sentence} It was", the prompt slot taken out
LABEL_WORDS = [" terrible", " great"]


def seeded_prompt(model, seed):
    """Fixed vectors at the scale of the model's input embeddings: embeddings of seeded ids plus noise."""
    g = torch.Generator().manual_seed(seed)
    embed = model.get_input_embeddings()
    ids = torch.randint(0, embed.num_embeddings, (VIRTUAL,), generator=g)
    with torch.no_grad():
        rows = embed(ids)
        return (rows + 0.5 * rows.std() * torch.randn(rows.shape, generator=g)).float()


def label_log_probs(logits, label_ids):
    """Log-probabilities of the label words' first tokens, normalized over the label words (Legible's scoring)."""
    return torch.log_softmax(logits[label_ids].double(), dim=0).tolist()


def score_peft(peft_model, examples, label_ids):
    out = []
    with torch.no_grad():
        for ids in examples:
            logits = peft_model(input_ids=torch.tensor([ids])).logits[0, -1]
            out.append(label_log_probs(logits, label_ids))
    return out


def score_after_bos(base, prompt, examples, label_ids):
    """The prompt right after the first token (<bos>), as a Legible template places it."""
    embed = base.get_input_embeddings()
    out = []
    with torch.no_grad():
        for ids in examples:
            rows = embed(torch.tensor([ids]))[0]
            inputs = torch.cat([rows[:1], prompt, rows[1:]])[None]
            logits = base(inputs_embeds=inputs).logits[0, -1]
            out.append(label_log_probs(logits, label_ids))
    return out


def make_adapter(base, prompt, folder, base_name):
    config = PromptTuningConfig(task_type=TaskType.CAUSAL_LM, num_virtual_tokens=VIRTUAL, base_model_name_or_path=base_name)
    peft_model = get_peft_model(base, config)
    with torch.no_grad():
        peft_model.prompt_encoder["default"].embedding.weight.copy_(prompt)
    # PEFT records the folder the base model came from; name the model as a user would find it instead.
    peft_model.peft_config["default"].base_model_name_or_path = base_name
    peft_model.save_pretrained(str(folder))
    (folder / "README.md").unlink(missing_ok=True)  # PEFT's model-card template: nothing the tests read
    return peft_model.get_base_model()  # prompt tuning leaves the base model's modules as they were


def sst2_sentences(count, split="16-100"):
    with open(ROOT / f"data/fewshot/sst-2/{split}/test.tsv", encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f, delimiter="\t"))
    step = len(rows) / count
    return [rows[int(i * step)] for i in range(count)]  # spread over the file, as --test-limit does


def max_diff(a, b):
    return max(abs(x - y) for ra, rb in zip(a, b) for x, y in zip(ra, rb))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--legible", help="the legible executable, for the import/export round trip through PEFT")
    parser.add_argument("--accuracy-prompt", help="a soft prompt file tuned on Gemma 3 270M for SST-2 (PEZ's template)")
    args = parser.parse_args()
    torch.manual_seed(0)
    OUT.mkdir(parents=True, exist_ok=True)
    reference = {"virtual_tokens": VIRTUAL, "label_words": LABEL_WORDS, "models": {}}

    # The tiny random GPT-2: no tokenizer, so examples are seeded id lists starting with its <bos> (id 300).
    tiny_dir = ROOT / "Tests/ModelsTests/Fixtures/gpt2-tiny"
    tiny = GPT2LMHeadModel.from_pretrained(str(tiny_dir), dtype=torch.float32).eval()
    g = torch.Generator().manual_seed(7)
    tiny_examples = [[300] + torch.randint(0, 300, (int(n),), generator=g).tolist() for n in (3, 6, 9, 12)]
    tiny_labels = [17, 42]
    prompt = seeded_prompt(tiny, 1)
    tiny = make_adapter(tiny, prompt, OUT / "gpt2-tiny-adapter", "gpt2-tiny")
    loaded = PeftModel.from_pretrained(tiny, str(OUT / "gpt2-tiny-adapter")).eval()
    reference["models"]["gpt2-tiny"] = {
        "examples": tiny_examples, "label_ids": tiny_labels,
        "peft_placement": score_peft(loaded, tiny_examples, tiny_labels),
        "legible_placement": score_after_bos(loaded.get_base_model(), prompt, tiny_examples, tiny_labels)}

    # Gemma 3 270M through its own tokenizer.
    gguf = ROOT / "models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf"
    gemma = AutoModelForCausalLM.from_pretrained(str(gguf.parent), gguf_file=gguf.name, dtype=torch.float32,
                                                 attn_implementation="eager").eval()
    tokenizer = AutoTokenizer.from_pretrained(str(gguf.parent), gguf_file=gguf.name)
    rows = sst2_sentences(8)
    # PEZ's template with the prompt slot removed: "<bos>sentence It was" (Legible's prefix/suffix split keeps the
    # sentence's leading space after the prompt; PEFT users type the text as is).
    examples = [tokenizer(r["sentence"] + TEMPLATE_AFTER)["input_ids"] for r in rows]
    label_ids = [tokenizer(w, add_special_tokens=False)["input_ids"][0] for w in LABEL_WORDS]
    prompt = seeded_prompt(gemma, 2)
    gemma = make_adapter(gemma, prompt, OUT / "gemma-3-270m-adapter", "google/gemma-3-270m")
    loaded = PeftModel.from_pretrained(gemma, str(OUT / "gemma-3-270m-adapter")).eval()
    peft_scores = score_peft(loaded, examples, label_ids)
    entry = {"examples": examples, "label_ids": label_ids, "peft_placement": peft_scores,
             "legible_placement": score_after_bos(loaded.get_base_model(), prompt, examples, label_ids)}

    if args.legible:
        with tempfile.TemporaryDirectory() as tmp:
            prompt_file, adapter = pathlib.Path(tmp) / "imported.safetensors", pathlib.Path(tmp) / "exported"
            subprocess.run([args.legible, "import", "--peft", str(OUT / "gemma-3-270m-adapter"), "--model",
                            str(gguf.parent), "--out", str(prompt_file)], check=True, cwd=ROOT)
            subprocess.run([args.legible, "export", "--prompt", str(prompt_file), "--format", "peft", "--out", str(adapter),
                            "--base-model", "google/gemma-3-270m"], check=True, cwd=ROOT)
            exported = load_file(str(adapter / "adapter_model.safetensors"))["prompt_embeddings"]
            again = PeftModel.from_pretrained(loaded.get_base_model(), str(adapter)).eval()
            entry["legible_round_trip_max_vector_diff"] = float((exported - prompt).abs().max())
            entry["legible_round_trip_max_logprob_diff"] = max_diff(score_peft(again, examples, label_ids), peft_scores)
            loaded = again

    if args.accuracy_prompt:
        soft = load_file(args.accuracy_prompt)["prompt"].float()
        base = loaded.get_base_model()
        test = sst2_sentences(200)
        # Legible's own placement through the prefix/suffix split: "<bos>" | prompt | " sentence It was".
        after, before, correct_after, correct_before = [], [], 0, 0
        embed = base.get_input_embeddings()
        with torch.no_grad():
            for r in test:
                bos = tokenizer("", add_special_tokens=True)["input_ids"]
                rest = tokenizer(" " + r["sentence"] + TEMPLATE_AFTER, add_special_tokens=False)["input_ids"]
                legible = torch.cat([embed(torch.tensor(bos)), soft, embed(torch.tensor(rest))])[None]
                peft = torch.cat([soft, embed(torch.tensor(bos + rest))])[None]
                for inputs, sink in ((legible, after), (peft, before)):
                    logits = base(inputs_embeds=inputs).logits[0, -1]
                    sink.append(int(torch.argmax(logits[label_ids])) == int(r["label"]))
        entry["accuracy"] = {"prompt_file": pathlib.Path(args.accuracy_prompt).name, "examples": len(test),
                             "after_bos": sum(after) / len(test), "before_bos": sum(before) / len(test)}

    reference["models"]["gemma-3-270m"] = entry
    (OUT / "reference.json").write_text(json.dumps(reference, indent=1) + "\n")
    print(json.dumps({k: {kk: v for kk, v in m.items() if kk not in ("examples", "peft_placement", "legible_placement")}
                      for k, m in reference["models"].items()}, indent=1))


if __name__ == "__main__":
    main()
