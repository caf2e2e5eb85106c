"""Minimal safetensors writer/reader and float32 -> bfloat16 rounding (no `safetensors` module needed).

Format (huggingface/safetensors, docs + safetensors/src/tensor.rs): u64 little-endian header length N, N bytes of
JSON {name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {str: str}}, then the raw
little-endian data. The reference writer pads the header with spaces to a multiple of 8 and lays tensors out by
dtype alignment (largest first), then by name; we do the same so our files look like HF's.
"""

import json
import struct

import numpy as np
import torch

# dtype name -> (numpy dtype, rank in the Rust Dtype enum, which is ordered by increasing alignment)
_DTYPES = {
    "BOOL": (np.bool_, 0),
    "U8": (np.uint8, 4),
    "BF16": (np.uint16, 12),  # stored as raw 16-bit patterns
    "F32": (np.float32, 15),
    "I64": (np.int64, 18),
}


def _name_of(t):
    return {torch.float32: "F32", torch.int64: "I64", torch.uint8: "U8", torch.bool: "BOOL"}[t.dtype]


def f32_to_bf16_bits(x):
    """Round-to-nearest-even float32 -> bfloat16, returned as uint16 bit patterns (no NaN/Inf expected)."""
    a = np.ascontiguousarray(x.detach().to(torch.float32).numpy()).view(np.uint32).astype(np.uint64)
    if np.any((a & 0x7F800000) == 0x7F800000):
        raise ValueError("NaN/Inf cannot be rounded by this helper")
    rounded = (a + 0x7FFF + ((a >> 16) & 1)) >> 16
    return torch.from_numpy(rounded.astype(np.uint16).view(np.int16).copy()), a.shape


def bf16_bits_to_f32(bits):
    """uint16 bit patterns (held in an int16 tensor) -> float32 tensor, exact."""
    u = bits.numpy().view(np.uint16).astype(np.uint32) << 16
    return torch.from_numpy(u.view(np.float32).copy())


class Bf16:
    """Marks a tensor to be stored as BF16 (holds the int16 bit patterns)."""

    def __init__(self, bits):
        self.bits = bits
        self.shape = list(bits.shape)


def write(path, tensors, metadata):
    """tensors: {name: torch tensor (F32/I64/U8/BOOL) or Bf16}; metadata: {str: str}."""
    entries = []
    for name, t in tensors.items():
        if isinstance(t, Bf16):
            dtype, data, shape = "BF16", t.bits.numpy().astype("<i2").tobytes(), t.shape
        else:
            dtype = _name_of(t)
            arr = t.detach().contiguous().numpy()
            data, shape = arr.astype(arr.dtype.newbyteorder("<"), copy=False).tobytes(), list(t.shape)
        entries.append((name, dtype, shape, data))
    entries.sort(key=lambda e: (-_DTYPES[e[1]][1], e[0]))
    header, offset = {"__metadata__": dict(metadata)}, 0
    for name, dtype, shape, data in entries:
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for _, _, _, data in entries:
            f.write(data)


def read(path):
    """-> ({name: torch tensor}, metadata). BF16 tensors come back as float32 (exact widening)."""
    with open(path, "rb") as f:
        blob = f.read()
    (n,) = struct.unpack_from("<Q", blob, 0)
    header = json.loads(blob[8:8 + n].decode("utf-8"))
    meta = header.pop("__metadata__", {})
    base, out = 8 + n, {}
    for name, info in header.items():
        begin, end = info["data_offsets"]
        np_dtype = _DTYPES[info["dtype"]][0]
        arr = np.frombuffer(blob[base + begin:base + end], dtype=np.dtype(np_dtype).newbyteorder("<")).copy()
        arr = arr.reshape(info["shape"])
        if info["dtype"] == "BF16":
            out[name] = bf16_bits_to_f32(torch.from_numpy(arr.astype(np.uint16).view(np.int16)))
        else:
            out[name] = torch.from_numpy(arr.astype(arr.dtype.newbyteorder("=")))
    return out, meta
