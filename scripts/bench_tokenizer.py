#!/usr/bin/env python3
"""Times tiktoken's `gpt2` encoding, single-threaded, on the texts the Swift tokenizer is timed on.

Two workloads, both written to --out so `legible tokenize --bench` can read exactly the same bytes:
  sst2-test.txt  every SST-2 test sentence, one per line, each encoded as its own text (--lines);
  mixed.txt      about 5 MB of English prose, code, numbers and non-Latin scripts, encoded as one text.

The encoding is built from encoder.json + vocab.bpe (as tiktoken's own gpt2 loader does), so no
download is needed. Special tokens are allowed, as the Swift tokenizer matches them too.

Usage:
  python scripts/bench_tokenizer.py --sst2 PATH/TO/sst-2/16-100/test.tsv
  swift build -c release --product legible
  .build/release/legible tokenize --model models/gpt2 --bench --lines < runs/tokenizer-bench/sst2-test.txt
  .build/release/legible tokenize --model models/gpt2 --bench < runs/tokenizer-bench/mixed.txt
"""

import argparse
import csv
import os
import random
import time

os.environ.setdefault("RAYON_NUM_THREADS", "1")

import tiktoken  # noqa: E402
import tiktoken.load  # noqa: E402

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

PROSE = (
    "The film opens on a quiet harbour town where nothing much happens, and for a while that is the point. "
    "Its director lets scenes breathe; the actors, mostly unknowns, carry long takes without strain. "
    "By the third act the story tightens, and what seemed like idle observation turns out to have been "
    "careful setup. It isn't perfect -- the score is overbearing and two subplots go nowhere -- but "
    "it's the rare drama that trusts its audience.\n\n"
)
CODE = (
    "def merge_pairs(symbols: list[int], ranks: dict[tuple[int, int], int]) -> list[int]:\n"
    "    while len(symbols) > 1:\n"
    "        best = min(zip(symbols, symbols[1:]), key=lambda p: ranks.get(p, 1 << 30))\n"
    "        if best not in ranks:\n"
    "            break\n"
    "        symbols = apply(symbols, best)  # merge every occurrence, left to right\n"
    "    return symbols\n\n"
    "for (int i = 0; i < n; ++i) { out[i] = a[i] * 0.5f + b[i]; }\n\n"
)
OTHER_SCRIPTS = (
    "東京は日本の首都であり、世界最大の都市圏の一つです。中文分词是自然语言处理的基础任务。\n"
    "Москва — столица России. Ελληνικά γράμματα. العربية لغة جميلة. עברית. हिन्दी भाषा। ภาษาไทย\n"
    "Emoji: 🎬🍿 👍🏽 👨‍👩‍👧‍👦 ❤️ — café, naïve, résumé, Straße, ½ ⅔ ², “quotes” and ‘single’…\n\n"
)


def mixed_text(target_bytes: int, seed: int = 0) -> str:
    """Repeats the snippets with fresh identifiers and numbers so that not every word repeats."""
    rng = random.Random(seed)
    syllables = ["ka", "lo", "min", "tra", "ve", "qu", "zor", "ith", "an", "el", "pu", "rex"]
    parts, size = [], 0
    while size < target_bytes:
        word = "".join(rng.choice(syllables) for _ in range(rng.randint(2, 5)))
        number = rng.randint(0, 10**rng.randint(1, 9))
        block = rng.choice([PROSE, CODE, OTHER_SCRIPTS]) + f"{word}_{number} = {number / 7:.4f}  # {word}\n"
        parts.append(block)
        size += len(block.encode())
    return "".join(parts)


def time_encoding(encoding, texts, passes):
    def one_pass():
        start = time.perf_counter()
        tokens = 0
        for text in texts:
            tokens += len(encoding.encode(text, allowed_special="all"))
        return tokens, time.perf_counter() - start

    tokens, cold = one_pass()
    best = min(one_pass()[1] for _ in range(passes))
    size = sum(len(t.encode()) for t in texts)
    print(
        f"  {len(texts)} texts, {size} bytes, {tokens} tokens; cold pass {cold:.4f} s ({tokens / cold:.0f} tokens/s); "
        f"best of {passes} warm passes {best:.4f} s ({tokens / best:.0f} tokens/s)"
    )


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sst2", required=True, help="SST-2 test.tsv (column 'sentence')")
    parser.add_argument("--vocabulary", default=os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures"),
                        help="directory with encoder.json and vocab.bpe")
    parser.add_argument("--out", default=os.path.join(ROOT, "runs", "tokenizer-bench"),
                        help="where the benchmark texts are written")
    parser.add_argument("--mixed-bytes", type=int, default=5_000_000)
    parser.add_argument("--passes", type=int, default=5)
    args = parser.parse_args()

    ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(
        os.path.join(args.vocabulary, "vocab.bpe"), os.path.join(args.vocabulary, "encoder.json"))
    encoding = tiktoken.Encoding(name="gpt2", pat_str=GPT2_PATTERN, mergeable_ranks=ranks,
                                 special_tokens={"<|endoftext|>": 50256})

    with open(args.sst2, newline="", encoding="utf-8") as f:
        sentences = [row["sentence"] for row in csv.DictReader(f, delimiter="\t", quoting=csv.QUOTE_NONE)]
    mixed = mixed_text(args.mixed_bytes)

    os.makedirs(args.out, exist_ok=True)
    with open(os.path.join(args.out, "sst2-test.txt"), "w", encoding="utf-8") as f:
        f.write("\n".join(sentences) + "\n")
    with open(os.path.join(args.out, "mixed.txt"), "w", encoding="utf-8") as f:
        f.write(mixed)

    print(f"tiktoken {tiktoken.__version__} gpt2, single thread; texts written to {args.out}")
    print("SST-2 test sentences, one text each:")
    time_encoding(encoding, sentences, args.passes)
    print("mixed text, one text:")
    time_encoding(encoding, [mixed], args.passes)


if __name__ == "__main__":
    main()
