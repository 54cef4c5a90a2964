#!/usr/bin/env python3
"""Prints a GGUF file's metadata and tensor table (gguf-py's reader), and optionally writes the golden
fixture the Swift reader is checked against on the real Gemma 3 270M file.

  python scripts/inspect_gguf.py [FILE] [--norms] [--write-fixture]

FILE defaults to $LEGIBLE_GEMMA_GGUF, else models/gemma-3-270m/gemma-3-270m-q4_k_m.gguf (fetch it with
scripts/fetch-model gemma-3-270m). --norms adds statistics of every F32 norm weight.
--write-fixture writes Tests/WeightFilesTests/Fixtures/gemma-3-270m-q4_k_m.json: the metadata (arrays as
length, first elements and an FNV-1a hash), the tensor table, and for a few tensors the sum, sum of
squares, FNV-1a hash and first 64 values of gguf.quants.dequantize.
"""
import argparse
import json
import os
import pathlib
import sys

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q, GGUFValueType as V
from gguf.constants import GGML_QUANT_SIZES

ROOT = pathlib.Path(__file__).resolve().parent.parent
DEFAULT_MODEL = ROOT / "models" / "gemma-3-270m" / "gemma-3-270m-q4_k_m.gguf"
FIXTURE = ROOT / "Tests" / "WeightFilesTests" / "Fixtures" / "gemma-3-270m-q4_k_m.json"

# (tensor, first row, row count or None for all rows): one of each type the file uses.
SAMPLES = [
    ("token_embd.weight", 0, 4),            # Q8_0, 262144 rows: only a few
    ("token_embd.weight", 262140, 4),       # ... and the last ones
    ("blk.0.attn_q.weight", 0, None),       # Q5_0
    ("blk.0.attn_v.weight", 0, None),       # Q8_0
    ("blk.0.attn_output.weight", 0, None),  # Q4_K
    ("blk.0.ffn_down.weight", 0, None),     # Q6_K
    ("blk.17.ffn_down.weight", 0, None),
    ("blk.0.attn_norm.weight", 0, None),    # F32
    ("blk.0.attn_q_norm.weight", 0, None),
    ("output_norm.weight", 0, None),
]

FNV_OFFSET, FNV_PRIME, MASK = 0xCBF29CE484222325, 0x100000001B3, (1 << 64) - 1


def fnv1a(data: bytes) -> int:
    """64-bit FNV-1a: simple enough to recompute in the Swift test, and it sees every byte."""
    h = FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * FNV_PRIME) & MASK
    return h


def value_type_name(field):
    names = [t.name.lower() for t in field.types]
    return " of ".join(names)


def describe(field, limit=8):
    main = field.types[0]
    if main == V.ARRAY:
        values = field.contents()
        shown = values[:limit]
        more = f", ... ({len(values)} items)" if len(values) > limit else ""
        return f"[{', '.join(repr(v) for v in shown)}{more}]"
    return repr(field.contents())


def rows_bytes(tensor, first, count):
    block_size, type_size = GGML_QUANT_SIZES[tensor.tensor_type]
    row_length = int(tensor.shape[0])
    bytes_per_row = row_length // block_size * type_size
    raw = np.asarray(tensor.data).view(np.uint8).reshape(-1)
    return raw[first * bytes_per_row:(first + count) * bytes_per_row]


def dequantized_rows(tensor, first, count):
    raw = rows_bytes(tensor, first, count)
    if tensor.tensor_type == Q.F32:
        return raw.view(np.float32).copy()
    return np.asarray(gguf.quants.dequantize(raw, tensor.tensor_type), dtype=np.float32).reshape(-1)


def print_report(reader, path, norms):
    print(f"file: {path} ({os.path.getsize(path)} bytes)")
    print(f"metadata ({len(reader.fields)} fields, GGUF.* are the header):")
    for key, field in reader.fields.items():
        print(f"  {key:45s} {value_type_name(field):16s} {describe(field)}")
    print(f"tensors ({len(reader.tensors)}), ggml dims fastest-first; shape = dims reversed:")
    for t in reader.tensors:
        dims = [int(d) for d in t.shape]
        print(f"  {t.name:32s} dims {str(dims):14s} shape {str(dims[::-1]):14s} {t.tensor_type.name:5s} {t.n_bytes:>10d} B")
    if norms:
        print("F32 norm weights (mean / min / max):")
        for t in reader.tensors:
            if t.name.endswith("norm.weight"):
                v = np.asarray(t.data, dtype=np.float32)
                print(f"  {t.name:32s} {v.mean():9.4f} {v.min():9.4f} {v.max():9.4f}")


def fixture(reader, path):
    metadata = {}
    for key, field in reader.fields.items():
        if key.startswith("GGUF."):
            continue
        entry = {"type": value_type_name(field)}
        if field.types[0] == V.ARRAY:
            values = field.contents()
            entry["count"] = len(values)
            entry["first"] = values[:8]
            if field.types[-1] == V.STRING:
                # Hash of every element's UTF-8 bytes, each followed by a zero byte.
                joined = b"".join(s.encode() + b"\x00" for s in values)
                entry["fnv1a"] = f"{fnv1a(joined):016x}"
        else:
            value = field.contents()
            entry["value"] = value if not isinstance(value, float) else float(np.float32(value))
        metadata[key] = entry
    tensors = [{"name": t.name, "dimensions": [int(d) for d in t.shape], "type": t.tensor_type.name,
                "fileOffset": int(t.data_offset), "byteCount": int(t.n_bytes)} for t in reader.tensors]
    by_name = {t.name: t for t in reader.tensors}
    samples = []
    for name, first, count in SAMPLES:
        t = by_name[name]
        rows = int(np.prod([int(d) for d in t.shape[1:]])) if len(t.shape) > 1 else 1
        count = rows if count is None else count
        values = dequantized_rows(t, first, count)
        samples.append({
            "name": name, "rows": [first, first + count],
            "sum": float(values.astype(np.float64).sum()),
            "sumOfSquares": float((values.astype(np.float64) ** 2).sum()),
            "fnv1a": f"{fnv1a(values.astype('<f4').tobytes()):016x}",
            "first": [float(v) for v in values[:64]],
        })
    return {"file": path.name, "byteCount": os.path.getsize(path), "alignment": int(reader.alignment),
            "dataOffset": int(reader.data_offset), "metadata": metadata, "tensors": tensors, "samples": samples}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("file", nargs="?", default=os.environ.get("LEGIBLE_GEMMA_GGUF", str(DEFAULT_MODEL)))
    parser.add_argument("--norms", action="store_true", help="statistics of the F32 norm weights")
    parser.add_argument("--write-fixture", action="store_true", help=f"write {FIXTURE.relative_to(ROOT)}")
    args = parser.parse_args()
    path = pathlib.Path(args.file)
    if not path.is_file():
        sys.exit(f"inspect_gguf: {path} not found (scripts/fetch-model gemma-3-270m fetches it)")
    reader = gguf.GGUFReader(str(path))
    print_report(reader, path, args.norms)
    if args.write_fixture:
        FIXTURE.write_text(json.dumps(fixture(reader, path), ensure_ascii=False, allow_nan=False) + "\n")
        print(f"wrote {FIXTURE.relative_to(ROOT)} ({FIXTURE.stat().st_size} bytes)")


if __name__ == "__main__":
    main()
