#!/usr/bin/python3
"""Golden fixtures for the tensor engine's ops, computed with PyTorch on the CPU.

Writes tests/fixtures/ops/ops.safetensors and tests/fixtures/ops/ops.json (see README.md next to this file).

Run with Debian's python (not the pyenv one on PATH):
    apt-get update && apt-get install -y python3-torch
    /usr/bin/python3 tests/reference/ops/make_op_fixtures.py

Every case:
  * seeds torch with crc32(case name), so adding a case never changes the others;
  * draws its float inputs with randn in float64, rounds them to float32 and back, so the stored float32 inputs are
    exactly the values the computation saw;
  * computes the forward in float64, then draws gy (randn, shape of y) and takes the gradients of sum(y * gy) with
    respect to every floating input with autograd, also in float64;
  * stores inputs, y, gy and grads as float32 (integer tensors as int64).
The stored outputs are therefore the exact answer for the stored inputs, rounded once to float32.
"""

import json
import math
import os
import struct
import sys
import zlib

import torch
import torch.nn.functional as F

FORMAT = 1
GENERATOR = "tests/reference/ops/make_op_fixtures.py"
IGNORE = -100

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", "..", ".."))
OUT_DIR = os.path.join(ROOT, "tests", "fixtures", "ops")


# ----------------------------------------------------------------------------------------------------------------------
# Recording helpers


class Writer:
    """Collects named tensors (in insertion order) and the manifest's case list."""

    def __init__(self):
        self.tensors = {}  # name -> torch tensor (float32 or int64, contiguous, CPU)
        self.cases = []

    def put(self, name, t):
        if name in self.tensors:
            raise ValueError(f"duplicate tensor name {name}")
        if t.dtype.is_floating_point:
            t = t.detach().to(torch.float32)
        elif t.dtype == torch.int64:
            t = t.detach()
        else:
            raise ValueError(f"{name}: unsupported dtype {t.dtype}")
        self.tensors[name] = t.contiguous()
        return name


W = Writer()


def seed(name):
    torch.manual_seed(zlib.crc32(name.encode("utf-8")))


def randn(*shape):
    """Standard-normal float64 values that are exactly representable in float32."""
    return torch.randn(tuple(shape), dtype=torch.float64).to(torch.float32).to(torch.float64)


def ids(high, *shape):
    return torch.randint(0, high, tuple(shape), dtype=torch.int64)


def case(name, op, attrs, inputs, fn):
    """Records one differentiable case.

    inputs: list of (short name, tensor); float64 tensors get gradients, int64 tensors do not.
    fn: called with the inputs (float ones requiring grad), returns y (float64).
    The caller must have called seed(name) before drawing the inputs; gy is drawn here, after the forward.
    """
    leaves = []
    for short, t in inputs:
        if t.dtype == torch.float64:
            t = t.clone().requires_grad_(True)
        leaves.append((short, t))
    y = fn(*[t for _, t in leaves])
    assert y.dtype == torch.float64, f"{name}: forward must stay in float64"
    gy = randn(*y.shape)
    float_leaves = [(s, t) for s, t in leaves if t.dtype == torch.float64]
    grads = torch.autograd.grad((y * gy).sum(), [t for _, t in float_leaves], allow_unused=True)

    entry = {
        "name": name,
        "op": op,
        "attrs": attrs,
        "inputs": [W.put(f"{name}/{s}", t) for s, t in leaves],
        "output": W.put(f"{name}/y", y),
        "grad_output": W.put(f"{name}/gy", gy),
        "grads": {},
    }
    for (s, t), g in zip(float_leaves, grads):
        if g is None:  # input does not influence y (cannot happen for the cases below, kept for safety)
            g = torch.zeros_like(t)
        entry["grads"][f"{name}/{s}"] = W.put(f"{name}/g{s}", g)
    W.cases.append(entry)


def stateful_case(name, op, attrs, inputs, outputs, main_output):
    """Records a non-differentiable case (optimizer step, clipping): several outputs, no gy and no grads.

    outputs: list of (short name, tensor); their full names are listed in attrs["outputs"] in this order.
    """
    in_names = [W.put(f"{name}/{s}", t) for s, t in inputs]
    out_names = [W.put(f"{name}/{s}", t) for s, t in outputs]
    attrs = dict(attrs)
    attrs["outputs"] = out_names
    W.cases.append({
        "name": name,
        "op": op,
        "attrs": attrs,
        "inputs": in_names,
        "output": f"{name}/{main_output}",
        "grad_output": None,
        "grads": {},
    })


# ----------------------------------------------------------------------------------------------------------------------
# Reference formulas that PyTorch 1.13 has no single call for (each is cross-checked in self_checks()).


def rms_norm(x, w, eps):
    # HF LlamaRMSNorm: x * rsqrt(mean(x^2, -1) + eps) * w
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def sdpa(q, k, v, causal, scale, q_offset, key_lengths):
    # q (B,H,T,D), k/v (B,Hkv,S,D); query head h reads kv head h // (H/Hkv).
    B, H, T, D = q.shape
    Hkv, S = k.shape[1], k.shape[2]
    group = H // Hkv
    k = k.repeat_interleave(group, dim=1)  # (B,H,S,D), head h -> kv head h // group
    v = v.repeat_interleave(group, dim=1)
    scores = torch.matmul(q, k.transpose(-1, -2)) * scale  # (B,H,T,S)
    masked = torch.zeros(B, 1, T, S, dtype=torch.bool)
    if causal:
        qpos = torch.arange(T).view(T, 1) + q_offset
        kpos = torch.arange(S).view(1, S)
        masked = masked | (kpos > qpos).view(1, 1, T, S)
    if key_lengths is not None:
        kpos = torch.arange(S).view(1, S)
        lens = torch.tensor(key_lengths).view(B, 1)
        masked = masked | (kpos >= lens).view(B, 1, 1, S)
    scores = scores.masked_fill(masked, float("-inf"))
    return torch.matmul(torch.softmax(scores, dim=-1), v)  # (B,H,T,D)


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def rope(x, positions, theta):
    # HF Llama non-interleaved RoPE. x (B,H,T,D), positions (T)
    D = x.shape[-1]
    inv_freq = 1.0 / (theta ** (torch.arange(0, D, 2, dtype=torch.float64) / D))  # (D/2)
    freqs = positions.to(torch.float64).view(-1, 1) * inv_freq.view(1, -1)  # (T, D/2)
    emb = torch.cat((freqs, freqs), dim=-1)  # (T, D)
    return x * emb.cos() + rotate_half(x) * emb.sin()


def token_logprobs(logits, labels):
    # log_softmax(logits)[..., label], 0 where label == -100. logits (B,T,V), labels (B,T)
    keep = labels != IGNORE
    lp = torch.log_softmax(logits, dim=-1).gather(-1, labels.clamp(min=0).unsqueeze(-1)).squeeze(-1)
    return torch.where(keep, lp, torch.zeros_like(lp))  # +0.0 at ignored positions (lp * 0 would give -0.0)


def pixel_shuffle(x, r):
    # Idefics3 / SmolVLM connector, exactly the torch sequence of smolvlm.md §2.4.
    n, S, D = x.shape
    h = w = int(math.isqrt(S))
    x = x.view(n, h, w, D)
    x = x.view(n, h, w // r, D * r)
    x = x.permute(0, 2, 1, 3)
    x = x.reshape(n, w // r, h // r, D * r * r)
    x = x.permute(0, 2, 1, 3)
    return x.reshape(n, S // (r * r), D * r * r)


# ----------------------------------------------------------------------------------------------------------------------
# The cases


def make_cases():
    # linear: F.linear(x, w, b) = x @ w^T + b
    n = "linear"; seed(n)
    case(n, "linear", {"bias": True}, [("x", randn(2, 5, 7)), ("w", randn(3, 7)), ("b", randn(3))],
         lambda x, w, b: F.linear(x, w, b))
    # linear without bias: F.linear(x, w)
    n = "linear_nobias"; seed(n)
    case(n, "linear", {"bias": False}, [("x", randn(2, 5, 7)), ("w", randn(3, 7))],
         lambda x, w: F.linear(x, w))

    # matmul: torch.matmul(a, b), batched
    n = "matmul_batched"; seed(n)
    case(n, "matmul", {}, [("a", randn(2, 3, 4, 5)), ("b", randn(2, 3, 5, 6))], torch.matmul)
    # matmul: torch.matmul(a, b), b broadcast over the batch dims
    n = "matmul_broadcast"; seed(n)
    case(n, "matmul", {}, [("a", randn(2, 3, 4, 5)), ("b", randn(5, 6))], torch.matmul)

    # add / mul: torch.add(a, b), torch.mul(a, b) with broadcasting (inputs a, b: "<case>/y" is the output)
    for op, fn in (("add", torch.add), ("mul", torch.mul)):
        n = f"{op}_bcast_trailing"; seed(n)
        case(n, op, {}, [("a", randn(2, 3, 4)), ("b", randn(3, 1))], fn)
        n = f"{op}_bcast_both"; seed(n)
        case(n, op, {}, [("a", randn(2, 1, 4)), ("b", randn(2, 3, 1))], fn)
    # scale: x * 0.37
    n = "scale"; seed(n)
    case(n, "scale", {"s": 0.37}, [("x", randn(3, 4))], lambda x: x * 0.37)

    # embedding: F.embedding(ids, w); repeated ids so the backward's scatter-add matters
    n = "embedding"; seed(n)
    tok = ids(11, 2, 5)
    tok[1, 3] = tok[0, 0]
    tok[1, 4] = tok[0, 0]
    tok[0, 2] = tok[1, 1]
    case(n, "embedding", {}, [("ids", tok), ("w", randn(11, 6))], lambda i, w: F.embedding(i, w))

    # transpose: x.transpose(1, 2)
    n = "transpose"; seed(n)
    case(n, "transpose", {"dim0": 1, "dim1": 2}, [("x", randn(2, 3, 4))], lambda x: x.transpose(1, 2))
    # permute: x.permute(0, 2, 3, 1)
    n = "permute"; seed(n)
    case(n, "permute", {"dims": [0, 2, 3, 1]}, [("x", randn(2, 3, 4, 5))], lambda x: x.permute(0, 2, 3, 1))
    # concat: torch.cat([a, b], dim=1) and dim=0
    n = "concat_dim1"; seed(n)
    case(n, "concat", {"dim": 1}, [("a", randn(2, 3)), ("b", randn(2, 5))], lambda a, b: torch.cat([a, b], 1))
    n = "concat_dim0"; seed(n)
    case(n, "concat", {"dim": 0}, [("a", randn(2, 3)), ("b", randn(4, 3))], lambda a, b: torch.cat([a, b], 0))
    # slice: x.narrow(1, 1, 3) == x[:, 1:4]
    n = "slice"; seed(n)
    case(n, "slice", {"dim": 1, "start": 1, "length": 3}, [("x", randn(4, 6))], lambda x: x.narrow(1, 1, 3))
    # gather: torch.gather(x, 1, idx); row 0 repeats an index so the backward accumulates
    n = "gather"; seed(n)
    x = randn(3, 5)
    idx = ids(5, 3, 2)
    idx[0, 1] = idx[0, 0]
    case(n, "gather", {"dim": 1}, [("x", x), ("idx", idx)], lambda x, i: torch.gather(x, 1, i))

    # layer_norm: F.layer_norm(x, (16,), w, b, eps=1e-6)
    n = "layer_norm"; seed(n)
    case(n, "layer_norm", {"eps": 1e-6}, [("x", randn(2, 3, 16)), ("w", randn(16)), ("b", randn(16))],
         lambda x, w, b: F.layer_norm(x, (16,), w, b, eps=1e-6))
    # rms_norm: HF LlamaRMSNorm, x * rsqrt(mean(x^2, -1) + 1e-5) * w
    n = "rms_norm"; seed(n)
    case(n, "rms_norm", {"eps": 1e-5}, [("x", randn(2, 3, 16)), ("w", randn(16))],
         lambda x, w: rms_norm(x, w, 1e-5))

    # gelu_tanh: F.gelu(x, approximate="tanh")
    n = "gelu_tanh"; seed(n)
    case(n, "gelu_tanh", {}, [("x", randn(2, 3, 8))], lambda x: F.gelu(x, approximate="tanh"))
    # silu: F.silu(x)
    n = "silu"; seed(n)
    case(n, "silu", {}, [("x", randn(2, 3, 8))], F.silu)
    # swiglu: F.silu(gate) * up
    n = "swiglu"; seed(n)
    case(n, "swiglu", {}, [("gate", randn(2, 3, 8)), ("up", randn(2, 3, 8))], lambda g, u: F.silu(g) * u)
    # softmax: torch.softmax(x, dim=-1)
    n = "softmax"; seed(n)
    case(n, "softmax", {"dim": -1}, [("x", randn(3, 4, 9))], lambda x: torch.softmax(x, dim=-1))
    # log_softmax: torch.log_softmax(x, dim=-1)
    n = "log_softmax"; seed(n)
    case(n, "log_softmax", {"dim": -1}, [("x", randn(3, 4, 9))], lambda x: torch.log_softmax(x, dim=-1))
    # sum: x.sum() over all elements (scalar output, shape [])
    n = "sum"; seed(n)
    case(n, "sum", {}, [("x", randn(3, 4, 5))], lambda x: x.sum())
    # mean: x.mean(dim=-1) (keepdim False)
    n = "mean"; seed(n)
    case(n, "mean", {"dim": -1}, [("x", randn(3, 4, 5))], lambda x: x.mean(dim=-1))

    # sdpa: softmax(q k^T * scale + mask) v with explicit matmul/softmax (the sdpa() function above), GQA 4 -> 2
    scale = 1.0 / math.sqrt(8)
    for n, causal, key_lengths in (("sdpa_causal", True, None),
                                   ("sdpa_full", False, None),
                                   ("sdpa_causal_keymask", True, [5, 3])):
        seed(n)
        attrs = {"causal": causal, "scale": scale, "q_offset": 0}
        if key_lengths is not None:
            attrs["key_lengths"] = key_lengths
        case(n, "sdpa", attrs, [("q", randn(2, 4, 5, 8)), ("k", randn(2, 2, 5, 8)), ("v", randn(2, 2, 5, 8))],
             lambda q, k, v, c=causal, kl=key_lengths: sdpa(q, k, v, c, scale, 0, kl))
    # sdpa decode-style: one query at position S-1 = 5 over 6 keys
    n = "sdpa_decode"; seed(n)
    case(n, "sdpa", {"causal": True, "scale": scale, "q_offset": 5},
         [("q", randn(2, 4, 1, 8)), ("k", randn(2, 2, 6, 8)), ("v", randn(2, 2, 6, 8))],
         lambda q, k, v: sdpa(q, k, v, True, scale, 5, None))

    # rope: HF Llama apply_rotary_pos_emb (rotate_half), inv_freq = 1/theta^(arange(0,D,2)/D), emb = cat(freqs, freqs)
    for n, start, theta in (("rope_pos0_theta1e4", 0, 10000.0),
                            ("rope_pos7_theta1e4", 7, 10000.0),
                            ("rope_pos0_theta1e5", 0, 100000.0),
                            ("rope_pos7_theta1e5", 7, 100000.0)):
        seed(n)
        pos = torch.arange(start, start + 5, dtype=torch.int64)
        case(n, "rope", {"theta": theta}, [("x", randn(2, 3, 5, 8)), ("positions", pos)],
             lambda x, p, th=theta: rope(x, p, th))

    # cross_entropy: F.cross_entropy(logits, labels, ignore_index=-100, reduction=...) (scalar output)
    for n, reduction in (("cross_entropy_mean", "mean"), ("cross_entropy_sum", "sum")):
        seed(n)
        labels = ids(10, 6)
        labels[1] = IGNORE
        labels[4] = IGNORE
        case(n, "cross_entropy", {"reduction": reduction}, [("logits", randn(6, 10)), ("labels", labels)],
             lambda lg, lb, r=reduction: F.cross_entropy(lg, lb, ignore_index=IGNORE, reduction=r))
    # cross_entropy with every label ignored, reduction "sum": loss 0, gradient 0
    n = "cross_entropy_all_ignored"; seed(n)
    case(n, "cross_entropy", {"reduction": "sum"},
         [("logits", randn(6, 10)), ("labels", torch.full((6,), IGNORE, dtype=torch.int64))],
         lambda lg, lb: F.cross_entropy(lg, lb, ignore_index=IGNORE, reduction="sum"))

    # token_logprobs: log_softmax(logits, -1).gather(-1, labels) with 0 where labels == -100 (the function above)
    n = "token_logprobs"; seed(n)
    labels = ids(10, 2, 4)
    labels[0, 0] = IGNORE
    labels[1, 2] = IGNORE
    labels[1, 3] = IGNORE
    case(n, "token_logprobs", {}, [("logits", randn(2, 4, 10)), ("labels", labels)], token_logprobs)

    # conv_patchify: F.conv2d(x, w, b, stride=4) with kernel 4 (non-overlapping patches)
    n = "conv_patchify"; seed(n)
    case(n, "conv_patchify", {"stride": 4},
         [("x", randn(2, 3, 8, 8)), ("w", randn(6, 3, 4, 4)), ("b", randn(6))],
         lambda x, w, b: F.conv2d(x, w, b, stride=4))

    # pixel_shuffle: the Idefics3 connector's view/permute/reshape sequence (the function above)
    for n, S, r in (("pixel_shuffle_r2", 16, 2), ("pixel_shuffle_r3", 36, 3)):
        seed(n)
        case(n, "pixel_shuffle", {"r": r}, [("x", randn(2, S, 3))], lambda x, r=r: pixel_shuffle(x, r))

    # adamw: 3 x torch.optim.AdamW(lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1).step() with fixed grads
    n = "adamw"; seed(n)
    p0, g1, g2, g3 = randn(4, 5), randn(4, 5), randn(4, 5), randn(4, 5)
    p = p0.clone().requires_grad_(True)
    opt = torch.optim.AdamW([p], lr=1e-2, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.1)
    after = []
    for g in (g1, g2, g3):
        p.grad = g.clone()
        opt.step()
        after.append(p.detach().clone())
    st = opt.state[p]
    stateful_case(n, "adamw", {"lr": 1e-2, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.1, "steps": 3},
                  [("p0", p0), ("g1", g1), ("g2", g2), ("g3", g3)],
                  [("p1", after[0]), ("p2", after[1]), ("p3", after[2]),
                   ("exp_avg", st["exp_avg"]), ("exp_avg_sq", st["exp_avg_sq"])],
                  "p3")

    # clip_grad_norm: torch.nn.utils.clip_grad_norm_([a, b], max_norm) on the grads of two parameters
    for n, max_norm in (("clip_grad_norm", 1.0), ("clip_grad_norm_noclip", 100.0)):
        seed(n)
        ga, gb = randn(3, 4), randn(5)
        pa = torch.zeros(3, 4, dtype=torch.float64, requires_grad=True)
        pb = torch.zeros(5, dtype=torch.float64, requires_grad=True)
        pa.grad, pb.grad = ga.clone(), gb.clone()
        total = torch.nn.utils.clip_grad_norm_([pa, pb], max_norm=max_norm, norm_type=2.0)
        stateful_case(n, "clip_grad_norm", {"max_norm": max_norm},
                      [("ga", ga), ("gb", gb)],
                      [("ga_clipped", pa.grad), ("gb_clipped", pb.grad), ("total_norm", total)],
                      "total_norm")


# ----------------------------------------------------------------------------------------------------------------------
# Self-checks of the hand-written formulas against independent computations


def self_checks():
    torch.manual_seed(0)
    # pixel shuffle vs the closed-form index map of smolvlm.md §2.4
    for h, r, D in ((4, 2, 1), (6, 3, 2), (8, 4, 3)):
        w = h
        x = torch.arange(h * w * D, dtype=torch.float64).view(1, h * w, D)
        out = pixel_shuffle(x, r)
        for p in range(h // r):
            for q in range(w // r):
                for i in range(r):
                    for j in range(r):
                        for d in range(D):
                            t, c = p * (w // r) + q, (i * r + j) * D + d
                            assert out[0, t, c] == x[0, (p * r + i) * w + (q * r + j), d]
    # sdpa vs a per-(b, h, t) loop with explicit key selection
    q, k, v = randn(2, 4, 3, 8), randn(2, 2, 5, 8), randn(2, 2, 5, 8)
    got = sdpa(q, k, v, True, 0.3, 2, [5, 4])
    for b in range(2):
        for hh in range(4):
            for t in range(3):
                keys = [s for s in range(5) if s <= t + 2 and s < [5, 4][b]]
                sc = torch.stack([(q[b, hh, t] * k[b, hh // 2, s]).sum() * 0.3 for s in keys])
                want = (torch.softmax(sc, 0).view(-1, 1) * v[b, hh // 2, keys]).sum(0)
                assert torch.allclose(got[b, hh, t], want, rtol=1e-12, atol=1e-12)
    # rope vs the complex-number form on pairs (i, i + D/2)
    x = randn(1, 1, 4, 8)
    pos = torch.arange(3, 7)
    got = rope(x, pos, 10000.0)
    z = torch.complex(x[..., :4], x[..., 4:])
    ang = pos.to(torch.float64).view(-1, 1) * (1.0 / 10000.0 ** (torch.arange(0, 8, 2, dtype=torch.float64) / 8))
    zr = z * torch.polar(torch.ones_like(ang), ang)
    assert torch.allclose(got, torch.cat((zr.real, zr.imag), -1), rtol=1e-12, atol=1e-12)
    # rms_norm vs a direct per-row computation
    x, w = randn(3, 16), randn(16)
    got = rms_norm(x, w, 1e-5)
    for row in range(3):
        ms = sum(float(v) ** 2 for v in x[row]) / 16
        assert torch.allclose(got[row], x[row] / math.sqrt(ms + 1e-5) * w, rtol=1e-12, atol=1e-12)
    # token_logprobs vs -F.cross_entropy(reduction="none")
    lg, lb = randn(2, 4, 10), torch.tensor([[1, -100, 3, 9], [0, 0, -100, 5]])
    want = -F.cross_entropy(lg.view(-1, 10), lb.view(-1), ignore_index=IGNORE, reduction="none").view(2, 4)
    assert torch.allclose(token_logprobs(lg, lb), want, rtol=1e-12, atol=1e-12)


# ----------------------------------------------------------------------------------------------------------------------
# Output


def write_safetensors(path, tensors, metadata):
    """safetensors: u64 LE header length, JSON header {name: {dtype, shape, data_offsets}}, raw LE data."""
    header = {"__metadata__": metadata}
    blobs, offset = [], 0
    for name, t in tensors.items():
        dtype = {torch.float32: "F32", torch.int64: "I64"}[t.dtype]
        data = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": dtype, "shape": list(t.shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    raw = json.dumps(header, separators=(",", ":")).encode("utf-8")
    raw += b" " * (-len(raw) % 8)  # pad so the data starts 8-byte aligned, as the reference writer does
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(raw)))
        f.write(raw)
        for b in blobs:
            f.write(b)


def main():
    torch.set_num_threads(1)
    self_checks()
    make_cases()
    names = [c["name"] for c in W.cases]
    assert len(names) == len(set(names)), "duplicate case name"
    os.makedirs(OUT_DIR, exist_ok=True)
    write_safetensors(os.path.join(OUT_DIR, "ops.safetensors"), W.tensors,
                      {"generator": GENERATOR, "format": str(FORMAT), "torch": torch.__version__})
    manifest = {"format": FORMAT, "generator": GENERATOR, "torch": torch.__version__, "cases": W.cases}
    with open(os.path.join(OUT_DIR, "ops.json"), "w", encoding="utf-8") as f:
        json.dump(manifest, f, indent=1)
        f.write("\n")
    size = os.path.getsize(os.path.join(OUT_DIR, "ops.safetensors"))
    print(f"{len(W.cases)} cases, {len(W.tensors)} tensors, ops.safetensors {size} bytes", file=sys.stderr)


if __name__ == "__main__":
    main()
