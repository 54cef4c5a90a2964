#!/usr/bin/env python3
"""Writes the tokenizer golden fixtures under Tests/TokenizersTests/Fixtures/.

gpt2-reference.json: every case is encoded by tiktoken's `gpt2` encoding and by transformers'
GPT2Tokenizer; the script stops if the two disagree, so the fixture holds ids both references agree
on. Decode cases (ids that split a multibyte character) record what transformers decodes them to.

gemma3-reference.json (with --gemma PATH.gguf): the same texts and a few chat-format ones, encoded by
the tokenizer transformers builds from the Gemma 3 GGUF's metadata, without and with special tokens.

tiktoken normally downloads its gpt2 files; this script builds the same encoding from the fixture's
own `encoder.json` + `vocab.bpe` (exactly what tiktoken's gpt2 loader does with those two files), so it
runs offline. transformers reads the same two files renamed to `vocab.json` + `merges.txt`.

Usage: python scripts/make_tokenizer_reference.py [--gemma models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf]
(needs tiktoken and transformers; --gemma also needs gguf)
"""

import argparse
import json
import os
import shutil
import tempfile

import tiktoken
import tiktoken.load
from transformers import GPT2Tokenizer

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FIXTURES = os.path.join(ROOT, "Tests", "TokenizersTests", "Fixtures")
ENCODER = os.path.join(FIXTURES, "encoder.json")
MERGES = os.path.join(FIXTURES, "vocab.bpe")
OUTPUT = os.path.join(FIXTURES, "gpt2-reference.json")
GEMMA_OUTPUT = os.path.join(FIXTURES, "gemma3-reference.json")

# tiktoken's gpt2 pattern (tiktoken_ext/openai_public.py); the same language as GPT-2's original regex.
GPT2_PATTERN = r"""'(?:[sdmt]|ll|ve|re)| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+"""

CASES = [
    "",
    "Hello world",
    "Alan Turing theorized that computers would one day become",
    "The movie was great!",
    " leading space",
    "trailing space ",
    "trailing spaces   ",
    "  two leading spaces",
    "a  b   c    d",
    "tabs\tand\t\tmore\ttabs",
    "line one\nline two\n\nline four\n",
    "\n",
    "\n\n\n",
    "mixed \t\n whitespace \r\n run",
    " \t ",
    "x\u00a0\u00a0y non-breaking",
    "ideographic\u3000space and\u2009thin space",
    "next line\u0085here",
    "zero\u200bwidth space",
    "file\x1cseparator\x1fcontrols",
    "I'm you're we've he'll she'd it's don't",
    "I'M YOU'RE WE'VE HE'LL SHE'D IT'S DON'T",
    "He'S a 'quoted' word''s and ' spaced 's",
    "rock 'n' roll, y'all",
    "123 4567 89012345 3.14159 1,000,000",
    "version 2.0.1-beta+build.7",
    "x\u00b2 + y\u00b3 = \u2163 and \u0663\u0664\u0665",
    "def f(x):\n    return x ** 2  # square\n",
    "for (int i = 0; i < n; ++i) { sum += a[i]; }",
    '{"key": [1, 2, 3], "nested": {"a": null}}',
    "https://example.com/path?query=1&b=2#frag",
    "Caf\u00e9 na\u00efve r\u00e9sum\u00e9 \u00fcber Stra\u00dfe",
    "e\u0301 combining accent",
    "\u65e5\u672c\u8a9e\u306e\u6587\u7ae0\u3067\u3059\u3002\u6771\u4eac\u306f\u5927\u304d\u3044\u3002",
    "\u4e2d\u6587\u6d4b\u8bd5\uff0c\u5305\u542b\u6807\u70b9\u7b26\u53f7\u3002",
    "\ud55c\uad6d\uc5b4 \ubb38\uc7a5\uc785\ub2c8\ub2e4",
    "\u0627\u0644\u0644\u063a\u0629 \u0627\u0644\u0639\u0631\u0628\u064a\u0629 \u062c\u0645\u064a\u0644\u0629",
    "\u05e2\u05d1\u05e8\u05d9\u05ea \u05d5English mixed",
    "\u0420\u0443\u0441\u0441\u043a\u0438\u0439 \u0442\u0435\u043a\u0441\u0442 \u0438 \u0395\u03bb\u03bb\u03b7\u03bd\u03b9\u03ba\u03ac",
    "\u0939\u093f\u0928\u094d\u0926\u0940 \u092d\u093e\u0937\u093e",
    "\u0e20\u0e32\u0e29\u0e32\u0e44\u0e17\u0e22",
    "emoji \U0001f600\U0001f389 party",
    "family \U0001f468\u200d\U0001f469\u200d\U0001f467\u200d\U0001f466 ZWJ",
    "flags \U0001f1fa\U0001f1f8\U0001f1ef\U0001f1f5 and skin \U0001f44d\U0001f3fd",
    "keycap 1\ufe0f\u20e3 heart \u2764\ufe0f",
    "math \U0001d400\U0001d401 and \U00010348 gothic",
    "\ufeffbyte order mark",
    "Supercalifragilisticexpialidocious " * 3,
    "a" * 300,
    "pneumonoultramicroscopicsilicovolcanoconiosis" + "x" * 200,
    "!!!???...,,,;;;",
    "<|endoftext|>",
    "before<|endoftext|>after",
    "one <|endoftext|> two<|endoftext|><|endoftext|>three",
    "<|endoftext",
    "The quick brown fox jumps over the lazy dog. " * 4,
]


def tiktoken_gpt2() -> tiktoken.Encoding:
    ranks = tiktoken.load.data_gym_to_mergeable_bpe_ranks(MERGES, ENCODER)
    return tiktoken.Encoding(
        name="gpt2",
        pat_str=GPT2_PATTERN,
        mergeable_ranks=ranks,
        special_tokens={"<|endoftext|>": 50256},
    )


def transformers_gpt2(directory: str) -> GPT2Tokenizer:
    shutil.copyfile(ENCODER, os.path.join(directory, "vocab.json"))
    shutil.copyfile(MERGES, os.path.join(directory, "merges.txt"))
    return GPT2Tokenizer.from_pretrained(directory)


GEMMA_CASES = [
    "<start_of_turn>user\nWrite a haiku.<end_of_turn>\n<start_of_turn>model\n",
    "<bos>text after a written bos",
    "  two  spaces   three    four",
    "\t\ttabs\tand\n\n\nnewlines",
    "x     y          z",
    "digits 1234567890 split one by one",
    "Mixed 日本語, العربية and emoji 🙂👍🏽",
]


def write_gemma_reference(gguf_path: str) -> None:
    from transformers import AutoTokenizer

    directory, name = os.path.split(os.path.abspath(gguf_path))
    tokenizer = AutoTokenizer.from_pretrained(directory, gguf_file=name)
    cases = [
        {"text": text, "ids": tokenizer.encode(text, add_special_tokens=False), "withSpecial": tokenizer.encode(text)}
        for text in CASES + GEMMA_CASES
    ]
    fixture = {
        "about": "Gemma 3 ids from the tokenizer transformers builds from the GGUF metadata; "
        "written by scripts/make_tokenizer_reference.py --gemma",
        "gguf": name,
        "encode": cases,
    }
    with open(GEMMA_OUTPUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {len(cases)} Gemma cases to {GEMMA_OUTPUT}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--gemma", metavar="GGUF", help="also write the Gemma 3 fixture from this GGUF file")
    args = parser.parse_args()
    write_gpt2_reference()
    if args.gemma:
        write_gemma_reference(args.gemma)


def write_gpt2_reference() -> None:
    encoding = tiktoken_gpt2()
    with tempfile.TemporaryDirectory() as directory:
        hf = transformers_gpt2(directory)
        encode_cases = []
        for text in CASES:
            reference = encoding.encode(text, allowed_special="all")
            ids = hf.encode(text)
            if reference != ids:
                raise SystemExit(f"tiktoken and transformers disagree on {text!r}: {reference} vs {ids}")
            assert hf.decode(ids) == text, text
            encode_cases.append({"text": text, "ids": ids})

        def byte_ids(data: bytes) -> list:
            return [encoding.encode_single_token(bytes([b])) for b in data]

        euro = "\u20ac".encode()  # e2 82 ac
        smile = "\U0001f600".encode()  # f0 9f 98 80
        decode_ids = [
            byte_ids(euro[:1]),
            byte_ids(euro[:2]),
            encoding.encode("price ") + byte_ids(euro[:2]) + encoding.encode(" ok"),
            byte_ids(smile[:3]) + byte_ids(euro),
            byte_ids(smile[1:]),
            byte_ids(b"\xff\xfe") + encoding.encode("x"),
        ]
        decode_cases = [{"ids": ids, "text": hf.decode(ids)} for ids in decode_ids]
        for case in decode_cases:
            tiktoken_text = encoding.decode(case["ids"], errors="replace")
            if tiktoken_text != case["text"]:
                raise SystemExit(f"decode disagrees on {case['ids']}: {tiktoken_text!r} vs {case['text']!r}")

    fixture = {
        "about": "GPT-2 byte-level BPE ids on which tiktoken (gpt2) and transformers GPT2Tokenizer agree; "
        "written by scripts/make_tokenizer_reference.py",
        "encode": encode_cases,
        "decode": decode_cases,
    }
    with open(OUTPUT, "w", encoding="utf-8") as f:
        json.dump(fixture, f, ensure_ascii=True, indent=1)
        f.write("\n")
    print(f"wrote {len(encode_cases)} encode and {len(decode_cases)} decode cases to {OUTPUT}")


if __name__ == "__main__":
    main()
