#!/usr/bin/env python3
"""Writes the GGUF reader's test fixtures into Tests/WeightFilesTests/Fixtures/ (golden values from gguf-py).

  dequant/<TYPE>.blocks        a few raw ggml blocks: random bytes, with the scale fields set to sane values
  dequant/<TYPE>.expected.f32  gguf.quants.dequantize of those blocks, float32 little-endian
  tiny.gguf, tiny-align64.gguf small files written by gguf.GGUFWriter: metadata of every value type
                               and tensors of several types
  tiny.json                    what a reader should find in them: tensor tables (from gguf.GGUFReader)
                               and each tensor's dequantized values

Run with the project's venv (numpy, gguf):  python scripts/make_gguf_reference.py
The seed is fixed, so running it again rewrites identical files.
"""
import json
import pathlib

import numpy as np
import gguf
from gguf import GGMLQuantizationType as Q
from gguf.constants import GGML_QUANT_SIZES

SEED = 20240617
ROOT = pathlib.Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "Tests" / "WeightFilesTests" / "Fixtures"

rng = np.random.default_rng(SEED)


def f16_bytes(values):
    return np.asarray(values, dtype=np.float16).view(np.uint8).reshape(-1, 2)


def random_blocks(qtype, n_blocks):
    """Random block bytes whose scale fields are finite, moderate, and of both signs."""
    _, type_size = GGML_QUANT_SIZES[qtype]
    blocks = rng.integers(0, 256, size=(n_blocks, type_size), dtype=np.uint8)
    signs = np.where(np.arange(n_blocks) % 2 == 0, 1.0, -1.0)
    if qtype in (Q.Q4_0, Q.Q5_0, Q.Q8_0):  # d: f16 at 0
        blocks[:, 0:2] = f16_bytes(signs * rng.uniform(1e-3, 0.1, n_blocks))
    elif qtype in (Q.Q4_K, Q.Q5_K):  # d, dmin: f16 at 0 and 2
        blocks[:, 0:2] = f16_bytes(signs * rng.uniform(1e-4, 0.02, n_blocks))
        blocks[:, 2:4] = f16_bytes(rng.uniform(1e-4, 0.02, n_blocks))
    elif qtype == Q.Q6_K:  # d: f16 at the end
        blocks[:, 208:210] = f16_bytes(signs * rng.uniform(1e-4, 0.01, n_blocks))
    elif qtype == Q.Q8_K:  # d: f32 at 0
        blocks[:, 0:4] = np.asarray(signs * rng.uniform(1e-3, 0.1, n_blocks), dtype=np.float32).view(np.uint8).reshape(-1, 4)
    return blocks


def reference_dequantize(blocks, qtype):
    if qtype == Q.Q8_K:
        # gguf-py has no Q8_K dequantizer; this is ggml-quants.c dequantize_row_q8_K: y = d * q in float32.
        d = blocks[:, 0:4].copy().view(np.float32)
        q = blocks[:, 4:260].copy().view(np.int8).astype(np.float32)
        return (d * q).reshape(-1)
    return np.asarray(gguf.quants.dequantize(blocks.reshape(-1), qtype), dtype=np.float32).reshape(-1)


def float_blocks(qtype):
    """F32/F16/BF16 "blocks": random finite values plus signed zeros, subnormals, extremes, infinities, NaN."""
    if qtype == Q.F16:
        special = np.array([0x0000, 0x8000, 0x0001, 0x83FF, 0x0400, 0x7BFF, 0xFBFF, 0x7C00, 0xFC00, 0x7E00, 0x3C00, 0x3555],
                           dtype=np.uint16)
        normal = rng.standard_normal(52).astype(np.float16).view(np.uint16)
        return np.concatenate([special, normal]).view(np.uint8).reshape(-1, 2)
    if qtype == Q.BF16:
        special = np.array([0x0000, 0x8000, 0x0001, 0x807F, 0x7F7F, 0x7F80, 0xFF80, 0x7FC0, 0x3F80], dtype=np.uint16)
        normal = (rng.standard_normal(55).astype(np.float32).view(np.uint32) >> 16).astype(np.uint16)
        return np.concatenate([special, normal]).view(np.uint8).reshape(-1, 2)
    values = np.concatenate([np.array([0.0, -0.0, 1e-45, -3.4e38, np.inf], dtype=np.float32),
                             rng.standard_normal(59).astype(np.float32)])
    return values.view(np.uint8).reshape(-1, 4)


def write_dequant_fixtures():
    out = FIXTURES / "dequant"
    out.mkdir(parents=True, exist_ok=True)
    quantized = {Q.Q4_0: 4, Q.Q5_0: 4, Q.Q8_0: 4, Q.Q4_K: 3, Q.Q5_K: 3, Q.Q6_K: 3, Q.Q8_K: 2}
    for qtype, n_blocks in quantized.items():
        blocks = random_blocks(qtype, n_blocks)
        expected = reference_dequantize(blocks, qtype)
        (out / f"{qtype.name}.blocks").write_bytes(blocks.tobytes())
        (out / f"{qtype.name}.expected.f32").write_bytes(expected.astype("<f4").tobytes())
    for qtype in (Q.F32, Q.F16, Q.BF16):
        blocks = float_blocks(qtype)
        expected = reference_dequantize(blocks, qtype)
        (out / f"{qtype.name}.blocks").write_bytes(blocks.tobytes())
        (out / f"{qtype.name}.expected.f32").write_bytes(expected.astype("<f4").tobytes())


def add_every_value_type(writer):
    """One key per GGUF value type; the Swift tests expect exactly these values."""
    writer.add_uint8("test.uint8", 200)
    writer.add_int8("test.int8", -100)
    writer.add_uint16("test.uint16", 60000)
    writer.add_int16("test.int16", -30000)
    writer.add_uint32("test.uint32", 4_000_000_000)
    writer.add_int32("test.int32", -2_000_000_000)
    writer.add_uint64("test.uint64", 2**64 - 1)  # does not fit in Int: the int accessor must say so
    writer.add_int64("test.int64", -(2**62))
    writer.add_float32("test.float32", 0.15625)
    writer.add_float64("test.float64", 3.141592653589793)
    writer.add_bool("test.bool", True)
    writer.add_string("test.string", "héllo ✓")
    writer.add_array("test.strings", ["a", "", "ß", "<0x0A>", "▁the"])
    writer.add_key_value("test.int32s", [1, -2, 3], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.INT32)
    writer.add_key_value("test.uint8s", [0, 255], gguf.GGUFValueType.ARRAY, sub_type=gguf.GGUFValueType.UINT8)
    writer.add_array("test.float32s", [0.5, -1.25, 1e-6])
    writer.add_array("test.bools", [True, False, True])
    writer.add_array("test.nested", [[1, 2], [3]])
    writer.add_uint32("test.block_count", 2)


def tiny_tensors():
    """(name, array to write, raw ggml type or None) for a handful of tensor types and ranks."""
    q8_source = rng.standard_normal((2, 64)).astype(np.float32)
    q4_0_source = rng.standard_normal((2, 2, 32)).astype(np.float32)
    return [
        ("f32.matrix", np.arange(6, dtype=np.float32).reshape(2, 3) - 2.5, None),
        ("f16.vector", rng.standard_normal(4).astype(np.float16), None),
        ("q8_0.matrix", gguf.quants.quantize(q8_source, Q.Q8_0), Q.Q8_0),
        ("q4_0.cube", gguf.quants.quantize(q4_0_source, Q.Q4_0), Q.Q4_0),
        ("q4_k.row", random_blocks(Q.Q4_K, 1).reshape(1, -1), Q.Q4_K),
        ("q6_k.rows", random_blocks(Q.Q6_K, 2).reshape(2, -1), Q.Q6_K),
        ("bf16.matrix", float_blocks(Q.BF16)[8:16].reshape(2, 8), Q.BF16),  # finite: JSON has no inf/NaN
    ]


def write_tiny(path, tensors, alignment=None):
    writer = gguf.GGUFWriter(str(path), arch="test")
    if alignment is not None:
        writer.add_custom_alignment(alignment)
    add_every_value_type(writer)
    for name, array, raw_type in tensors:
        writer.add_tensor(name, array, raw_dtype=raw_type)
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()

    reader = gguf.GGUFReader(str(path))
    table = []
    for t in reader.tensors:
        values = reference_dequantize(np.asarray(t.data).view(np.uint8).reshape(-1, GGML_QUANT_SIZES[t.tensor_type][1]),
                                      t.tensor_type) if t.tensor_type != Q.F32 else np.asarray(t.data).reshape(-1)
        table.append({
            "name": t.name,
            "dimensions": [int(d) for d in t.shape],  # ggml order, fastest-varying first
            "type": t.tensor_type.name,
            "fileOffset": int(t.data_offset),
            "byteCount": int(t.n_bytes),
            "values": [float(v) for v in np.asarray(values, dtype=np.float32)],
        })
    return {"file": path.name, "alignment": int(reader.alignment), "tensors": table}


def main():
    write_dequant_fixtures()
    tensors = tiny_tensors()
    manifest = [write_tiny(FIXTURES / "tiny.gguf", tensors), write_tiny(FIXTURES / "tiny-align64.gguf", tensors, 64)]
    (FIXTURES / "tiny.json").write_text(json.dumps(manifest, allow_nan=False) + "\n")
    total = sum(p.stat().st_size for p in FIXTURES.rglob("*") if p.is_file())
    print(f"wrote fixtures under {FIXTURES.relative_to(ROOT)} ({total} bytes in all)")


if __name__ == "__main__":
    main()
