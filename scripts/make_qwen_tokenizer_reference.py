#!/usr/bin/env python3
"""Writes Tests/TokenizersTests/Fixtures/qwen2-reference.json: Qwen2.5-Coder's tokenizer as transformers builds it
from the GGUF metadata (byte-level BPE, Qwen2's pre-tokenizer regex, control and user-defined tokens matched whole).

For each text: the ids without and with special tokens, what transformers decodes the ids to (the script stops if
that is not the text), and the pieces Qwen2's pre-tokenizer regex alone splits the text into, as Hugging Face
tokenizers runs it (Oniguruma), so the Swift scanner can be checked without the model.

Usage: python scripts/make_qwen_tokenizer_reference.py [models/qwen2.5-coder-0.5b/qwen2.5-coder-0.5b-instruct.gguf]
(needs transformers, tokenizers, gguf and torch: transformers' GGUF reader imports torch)
"""

import json
import os
import sys

from tokenizers import Regex, pre_tokenizers
from transformers import AutoTokenizer
from transformers.models.qwen2.tokenization_qwen2 import PRETOKENIZE_REGEX

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DEFAULT_GGUF = os.path.join(ROOT, "models", "qwen2.5-coder-0.5b", "qwen2.5-coder-0.5b-instruct.gguf")
OUTPUT = os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures", "qwen2-reference.json")

CASES = [
    "",
    "Hello world",
    "12345",
    "3.14",
    "pi is 3.14159, e is 2.71828; 1,000,000 and 2024-01-31",
    "version 2.0.1-beta+build.7",
    "x\u00b2 + y\u00b3 = \u2163 and \u0663\u0664\u0665",
    "DON'T",
    "we'll",
    "I'm you're we've he'll she'd it's don't",
    "I'M YOU'RE WE'VE HE'LL SHE'D IT'S DON'T",
    "He'S a 'quoted' word''s and ' spaced 's",
    "'\u017f and '\u017ft: the long s folds to s",
    "it's a charming film . It was great",
    "line one\nline two\n\nline four\n",
    "\n",
    "\n\n\n",
    "mixed \t\n whitespace \r\n run",
    "a  \nb",
    "x.\n\n y",
    "  \n  ",
    " leading space",
    "trailing spaces   ",
    "a  b   c    d",
    "tabs\tand\t\tmore\ttabs",
    "\tindented\n\t\tdouble",
    "!!!???...,,,;;;",
    "(hello) [world] {x} <tag> --flag=1",
    "$100 and 50% off!!",
    "def f(x):\n    return x**2",
    "def f(x):\n    return x ** 2  # square\n",
    "class A:\n    def __init__(self):\n        self.x = []\n\n    def add(self, y):\n        self.x.append(y)\n",
    "for (int i = 0; i < n; ++i) {\n\tsum += a[i];\n}\n",
    'if __name__ == "__main__":\n    main()\n',
    '{"key": [1, 2, 3], "nested": {"a": null}}',
    "https://example.com/path?query=1&b=2#frag",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe",
    "cafe\u0301 combining accent",
    "x\u00a0\u00a0y non-breaking\u00a0space",
    "ideographic\u3000space and\u2009thin space",
    "next line\u0085here",
    "zero\u200bwidth space",
    "\ufeffbyte order mark",
    "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002\u6771\u4eac\u306f\u5927\u304d\u3044\u3002",
    "\u4e2d\u6587\u6d4b\u8bd5\uff0c\u5305\u542b\u6807\u70b9\u7b26\u53f7\u3002",
    "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4",
    "\u0627\u0644\u0644\u063a\u0629 \u0627\u0644\u0639\u0631\u0628\u064a\u0629",
    "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442 \u0438 \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
    "emoji \U0001f600\U0001f389 party",
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 ZWJ",
    "flags \U0001f1fa\U0001f1f8 and skin \U0001f44d\U0001f3fd",
    "<|im_start|>user\nhi<|im_end|>",
    "<|im_start|>system\nYou are Qwen.<|im_end|>\n<|im_start|>user\nWrite a haiku.<|im_end|>\n<|im_start|>assistant\n",
    "<|endoftext|>",
    "before<|endoftext|>after",
    "<|im_start",
    "<|fim_prefix|>def f():<|fim_suffix|>\n<|fim_middle|>",
    '<tool_call>{"name": "f"}</tool_call>',
    "[PAD151665] is an unused slot",
    "Supercalifragilisticexpialidocious " * 3,
    "a" * 300,
    "The quick brown fox jumps over the lazy dog. " * 4,
]


def main() -> None:
    path = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else DEFAULT_GGUF)
    directory, name = os.path.split(path)
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    split = pre_tokenizers.Split(Regex(PRETOKENIZE_REGEX), behavior="isolated")
    cases = []
    for text in CASES:
        ids = tokenizer.encode(text, add_special_tokens=False)
        decoded = tokenizer.decode(ids)
        if decoded != text:
            raise SystemExit(f"transformers does not decode its own ids back to {text!r}: {decoded!r}")
        pieces = [piece for piece, _ in split.pre_tokenize_str(text)]
        cases.append({"text": text, "ids": ids, "withSpecial": tokenizer.encode(text), "pieces": pieces})
    fixture = {
        "about": "Qwen2.5-Coder ids from the tokenizer transformers builds from the GGUF metadata, and the pieces of "
        "Qwen2's pre-tokenizer regex; written by scripts/make_qwen_tokenizer_reference.py",
        "gguf": name,
        "vocabularySize": len(tokenizer),
        "encode": cases,
    }
    with open(OUTPUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} cases to {OUTPUT}")


if __name__ == "__main__":
    main()
