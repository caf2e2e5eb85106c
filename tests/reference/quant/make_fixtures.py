#!/usr/bin/python3
"""Golden data for VlmTune.Quantization (NF4 / FP4 with double quantisation, bitsandbytes layout).

Run:  /usr/bin/python3 tests/reference/quant/make_fixtures.py
      (Debian python3-torch 1.13; bitsandbytes itself is not installable here, so this script re-implements
       its CPU reference path in plain torch.)
Writes: tests/fixtures/quant/quant_cases.json   (format_version 1)

What is followed (bitsandbytes-foundation/bitsandbytes, read through the source index):
  * bitsandbytes/functional.py  get_4bit_type("nf4"/"fp4")      -> the 16-entry code tables (f32, fp4 divided by 12)
  * bitsandbytes/functional.py  create_dynamic_map(signed=True)  -> the 256-entry signed dynamic map (double quant)
  * bitsandbytes/backends/default/ops.py  quantize_4bit          -> flatten, absmax per block, scale full blocks by
    the f32 reciprocal of absmax, clamp to [-1, 1], nearest code, pad odd length with 0.0, pack first element in the
    high nibble. VlmTune spec errata (shared/spec/finetune.md §6): the trailing partial block is *divided* by its
    absmax, clamped to >= 1e-38; nearest code = torch.bucketize on the f32 midpoints of the sorted code values
    (a value exactly on a midpoint takes the lower code; FP4 +0 wins over -0).
  * bitsandbytes/functional.py  quantize_4bit(compress_statistics=True) -> offset = absmax.mean(),
    quantize_blockwise(absmax - offset, blocksize=256) with the dynamic map; the 8-bit step follows
    backends/default/ops.py quantize_blockwise (absmax per block, * (1/absmax), clamp, argmin |x - code|).
  * backends/default/ops.py dequantize_4bit / _gemm_4bit_default_impl -> absmax = code2[q] * absmax2 + offset,
    w = code[nibble] * absmax (f32).
  * functional.py QuantState.as_dict(packed=True) + utils.pack_dict_to_tensor -> the quant_state JSON bytes.

Deliberate choices (also stated in the C# code):
  * all-zero block: absmax 0 and every element takes the code of 0.0 (NF4 7, FP4 0) instead of the NaN that
    0 * inf would produce in torch.
  * bf16 input: bf16 values are widened to f32 exactly and scaled in f32 (what torch's type promotion does for full
    blocks and what the CUDA kernel does everywhere). For the trailing partial block of a bf16 tensor bitsandbytes'
    torch path would round the scaled values to bf16 (0-dim divisor keeps bf16); that torch-version-dependent rounding
    is not reproduced.
"""

import base64
import json
import math
import os
import struct

import torch

GENERATOR = "tests/reference/quant/make_fixtures.py"
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "quant", "quant_cases.json")


# ---- code tables (functional.py get_4bit_type / create_dynamic_map) -------------------------------------------
def get_4bit_type(name):
    if name == "nf4":
        data = [-1.0, -0.6961928009986877, -0.5250730514526367, -0.39491748809814453,
                -0.28444138169288635, -0.18477343022823334, -0.09105003625154495, 0.0,
                0.07958029955625534, 0.16093020141124725, 0.24611230194568634, 0.33791524171829224,
                0.44070982933044434, 0.5626170039176941, 0.7229568362236023, 1.0]
    else:
        data = [0, 0.0625, 8.0, 12.0, 4.0, 6.0, 2.0, 3.0, -0, -0.0625, -8.0, -12.0, -4.0, -6.0, -2.0, -3.0]
    t = torch.tensor(data, dtype=torch.float32)
    t /= t.abs().max()
    return t


def create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8):
    data = []
    non_sign_bits = total_bits - 1
    additional_items = 2 ** (non_sign_bits - max_exponent_bits) - 1
    for i in range(max_exponent_bits):
        fraction_items = int(2 ** (i + non_sign_bits - max_exponent_bits) + 1 if signed
                             else 2 ** (i + non_sign_bits - max_exponent_bits + 1) + 1)
        boundaries = torch.linspace(0.1, 1, fraction_items)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    if additional_items > 0:
        boundaries = torch.linspace(0.1, 1, additional_items + 1)
        means = (boundaries[:-1] + boundaries[1:]) / 2.0
        data += ((10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
        if signed:
            data += (-(10 ** (-(max_exponent_bits - 1) + i)) * means).tolist()
    data.append(0)
    data.append(1.0)
    assert len(data) == 2 ** total_bits
    data.sort()
    return torch.tensor(data, dtype=torch.float32)


# ---- 4-bit quantisation (backends/default/ops.py quantize_4bit + errata) ----------------------------------------
def nearest_4bit(scaled, code):
    """bucketize on the midpoints of the sorted distinct code values; returns code indices (int64)."""
    values = sorted(set(code.tolist()))               # FP4: +0 and -0 collapse into one value 0.0
    values_t = torch.tensor(values, dtype=torch.float32)
    mids = (values_t[:-1] + values_t[1:]) / 2
    bucket = torch.bucketize(scaled, mids)           # right=False: value == midpoint -> lower bucket
    index_of = []
    for v in values:                                 # first index in table order with that value (+0 before -0)
        index_of.append(next(i for i, c in enumerate(code.tolist()) if c == v))
    return torch.tensor(index_of, dtype=torch.int64)[bucket]


def quantize_4bit(A, blocksize, quant_type):
    n = A.numel()
    full = n // blocksize
    rem = n % blocksize
    blocks = full + (1 if rem else 0)
    flat = A.reshape(n).float()                      # exact widening for bf16 (see header)
    absmax = torch.zeros(blocks, dtype=torch.float32)
    parts = []
    if full:
        fb = flat[: n - rem].reshape(full, blocksize)
        absmax[:full] = fb.abs().max(dim=-1)[0]
        recip = 1 / absmax[:full].view(-1, 1)
        s = torch.clamp(fb * recip, -1, 1)
        s = torch.where(absmax[:full].view(-1, 1) == 0, torch.zeros_like(s), s)
        parts.append(s.reshape(-1))
    if rem:
        r = flat[n - rem:]
        am = r.abs().max()
        absmax[-1] = am
        s = torch.clamp(r / torch.clamp(am, min=1e-38), -1, 1)
        parts.append(s)
    scaled = torch.cat(parts)
    code = get_4bit_type(quant_type)
    if scaled.numel() % 2:
        scaled = torch.nn.functional.pad(scaled, (0, 1), value=0.0)
    q = nearest_4bit(scaled, code).to(torch.uint8)
    packed = (q[::2] << 4) | q[1::2]
    return packed.reshape(-1, 1), absmax, code


def quantize_blockwise(A, code, blocksize):
    n = A.numel()
    rem = n % blocksize
    full = n // blocksize
    blocks = full + (1 if rem else 0)
    absmax = torch.zeros(blocks, dtype=torch.float32)
    parts = []
    if full:
        fb = A[: n - rem].reshape(full, blocksize)
        absmax[:full] = fb.abs().max(dim=-1)[0]
        parts.append(torch.clamp(fb * (1 / absmax[:full].view(-1, 1)), -1, 1).reshape(-1))
    if rem:
        absmax[-1] = A[n - rem:].abs().max()
        parts.append(torch.clamp(A[n - rem:] * (1 / absmax[-1]), -1, 1))
    scaled = torch.cat(parts)
    diff = torch.abs(scaled.unsqueeze(-1) - code)
    return torch.argmin(diff, dim=-1).to(torch.uint8), absmax


def quantize(A, blocksize, quant_type, double_quant):
    packed, absmax, code = quantize_4bit(A, blocksize, quant_type)
    state = {"packed": packed, "absmax": absmax, "code": code}
    if double_quant:
        offset = absmax.mean()
        code2 = create_dynamic_map(signed=True)
        qabsmax, absmax2 = quantize_blockwise(absmax - offset, code2, 256)
        state.update(qabsmax=qabsmax, absmax2=absmax2, offset=offset, code2=code2)
    return state


def dequantize(state, n, blocksize, double_quant):
    if double_quant:
        code2 = state["code2"]
        nb = state["qabsmax"].numel()
        a = code2[state["qabsmax"].long()]
        scale2 = state["absmax2"].repeat_interleave(256)[:nb]
        absmax = a * scale2 + state["offset"]
    else:
        absmax = state["absmax"]
    p = state["packed"].reshape(-1)
    idx = torch.empty(p.numel() * 2, dtype=torch.int64)
    idx[0::2] = (p >> 4).long()
    idx[1::2] = (p & 0xF).long()
    vals = state["code"][idx][:n]
    scale = absmax.repeat_interleave(blocksize)[:n]
    return vals * scale


def quant_state_json(quant_type, blocksize, dtype_name, shape, double_quant, offset):
    d = {"quant_type": quant_type, "blocksize": blocksize, "dtype": dtype_name, "shape": list(shape)}
    if double_quant:
        d.update(nested_blocksize=256, nested_dtype="float32", nested_offset=offset.item())
    return json.dumps(d)   # utils.pack_dict_to_tensor: json.dumps then utf-8 bytes


def b64(t):
    return base64.b64encode(t.contiguous().numpy().tobytes()).decode("ascii")


def bf16_bits(t):
    return t.view(torch.int16).numpy().astype("<u2")


def special_block_input():
    """Zero block, exact midpoint ties, exact code multiples, an outlier block, a short tail."""
    nf4 = get_4bit_type("nf4")
    mids = ((nf4[:-1] + nf4[1:]) / 2)
    absmax = torch.tensor(1.0)   # scale 1: the scaled values are the exact f32 midpoints
    b0 = torch.zeros(64)
    b1 = torch.cat([mids * absmax, -mids * absmax, torch.tensor([1.0]),
                    torch.linspace(-0.75, 0.75, 64 - 31)])
    b2 = torch.cat([nf4 * 3.0, get_4bit_type("fp4") * 3.0, torch.linspace(-2.9, 2.9, 32)])
    b3 = torch.randn(64) * 1e-3
    b3[10] = 40.0
    tail = torch.tensor([1e-30, -2e-30, 0.0, 5e-31, 0.0])
    return torch.cat([b0, b1, b2, b3, tail])


def make_case(name, A, blocksize, quant_type, double_quant):
    dtype_name = "bfloat16" if A.dtype == torch.bfloat16 else "float32"
    st = quantize(A, blocksize, quant_type, double_quant)
    n = A.numel()
    deq = dequantize(st, n, blocksize, double_quant)
    case = {
        "name": name, "quant_type": quant_type, "blocksize": blocksize, "double_quant": double_quant,
        "input_dtype": dtype_name, "shape": list(A.shape),
        "input": base64.b64encode(bf16_bits(A.reshape(-1)).tobytes()).decode("ascii") if A.dtype == torch.bfloat16
        else b64(A.reshape(-1)),
        "packed": b64(st["packed"].reshape(-1)),
        "quant_map": b64(st["code"]),
        "dequantized": b64(deq),
        "quant_state_json": quant_state_json(quant_type, blocksize, dtype_name, A.shape, double_quant,
                                             st.get("offset")),
    }
    if double_quant:
        case.update(absmax_u8=b64(st["qabsmax"]), nested_absmax=b64(st["absmax2"]),
                    nested_offset_bits=struct.unpack("<I", struct.pack("<f", st["offset"].item()))[0],
                    nested_quant_map=b64(st["code2"]), absmax_f32_before_dq=b64(st["absmax"]))
    else:
        case["absmax"] = b64(st["absmax"])
    return case


def rmse_reference():
    g = torch.Generator().manual_seed(1234)
    x = torch.randn(1 << 20, generator=g)
    out = {}
    for qt in ("nf4", "fp4"):
        for dq in (False, True):
            st = quantize(x, 64, qt, dq)
            deq = dequantize(st, x.numel(), 64, dq)
            out[f"{qt}_bs64_dq{int(dq)}"] = math.sqrt(float(((deq.double() - x.double()) ** 2).mean()))
    return out


def main():
    torch.manual_seed(20240607)
    cases = [
        make_case("nf4_bs64_f32", torch.randn(16, 64) * 0.02, 64, "nf4", False),
        make_case("nf4_bs64_f32_dq", torch.randn(130, 130) * 0.05, 64, "nf4", True),
        make_case("fp4_bs64_f32_odd_single_partial", torch.randn(7, 9), 64, "fp4", False),
        make_case("nf4_bs128_bf16_odd_dq", (torch.randn(33, 65) * 0.03).to(torch.bfloat16), 128, "nf4", True),
        make_case("fp4_bs32_f32_dq", torch.randn(40, 50) * 0.1, 32, "fp4", True),
        make_case("nf4_bs4096_f32_odd_dq", torch.randn(3, 3001), 4096, "nf4", True),
        make_case("fp4_bs64_bf16_dq", (torch.randn(64, 96) * 0.02).to(torch.bfloat16), 64, "fp4", True),
        make_case("fp4_bs64_bf16_odd", (torch.randn(5, 27) * 0.5).to(torch.bfloat16), 64, "fp4", False),
        make_case("nf4_bs64_special", special_block_input(), 64, "nf4", False),
        make_case("fp4_bs64_special", special_block_input(), 64, "fp4", False),
        make_case("nf4_bs32_f32_dq_300_blocks", torch.randn(96, 100) * 0.01, 32, "nf4", True),
    ]
    doc = {
        "format_version": 1,
        "generator": GENERATOR,
        "torch_version": torch.__version__,
        "note": "arrays are base64 of little-endian raw values; bf16 inputs are raw uint16 bit patterns",
        "rmse_reference": {"seed": 1234, "count": 1 << 20, "distribution": "N(0,1) torch.randn",
                           "values": rmse_reference()},
        "cases": cases,
    }
    os.makedirs(os.path.dirname(OUT), exist_ok=True)
    with open(OUT, "w") as f:
        json.dump(doc, f, indent=1)
    print(f"wrote {OUT} ({os.path.getsize(OUT)} bytes, {len(cases)} cases)")
    print(json.dumps(doc["rmse_reference"]["values"], indent=1))


if __name__ == "__main__":
    main()
