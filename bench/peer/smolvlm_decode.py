#!/usr/bin/env python3
"""Eager-PyTorch CPU peer of VlmTune's greedy decode on SmolVLM's text model (issue 14, Deliver 5).

The model is smolvlm_step.py's plain-torch SmolVLM (written from the HF modelling formulas; see its docstring), with
the decoding of transformers' generate() added here from models/llama/modeling_llama.py and cache_utils.py:
  - prefill: the whole prompt once, causal mask, RoPE positions 0..P-1; only the last position goes through lm_head
    (as generate() does since transformers 4.45: logits_to_keep=1);
  - then one token per step at position P+i, attending to every cached key (no mask is needed for one query row);
  - cache "dynamic": DynamicCache, keys/values concatenated per layer per token (torch.cat: generate()'s default);
    cache "static": StaticCache, preallocated (1, kv_heads, P+N, d) per layer, written in place with index_copy_
    and read as the first P+i+1 rows;
  - greedy: argmax of the last row's logits, no stop token (exactly --new tokens, as the VlmTune bench).
  - weights in --dtype: f32 (bf16 checkpoint values widened exactly; the default) or bf16 (as stored: torch 1.13's
    bf16 CPU matmuls took ~190 s for a 1,024-token prefill here, and rounding changes the greedy tokens).
Decode tokens/s counts the tokens after the first (which comes out of the prefill), as VlmTune.Bench decode does.

    /usr/bin/python3 bench/peer/smolvlm_decode.py --model CKPT --ids DUMP.json [--new N] [--rounds R] [--threads T]
        [--cache dynamic,static] [--dtype f32[,bf16]]

--ids takes the JSON that `VlmTune.Bench decode --dump FILE` writes ({"prompt": [...], "tokens": [...]}): the peer
decodes the same prompt and reports how many of its tokens agree with VlmTune's, from the first. Prints one JSON line
per (round, cache, dtype): tokens_per_s, prefill_s, matching_tokens, and the allocator / BLAS core loaded.
"""
import argparse
import json
import os
import resource
import sys
import time

import torch
import torch.nn.functional as F

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import smolvlm_step as peer  # noqa: E402  (the plain-torch model of the step peer)


def rope(model, positions, dtype):
    inv = 1.0 / (model.rope_theta ** (torch.arange(0, model.head_dim, 2, dtype=torch.int64).float() / model.head_dim))
    freqs = positions.float()[:, None] * inv[None, :]
    emb = torch.cat((freqs, freqs), dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


class Cache:
    """Per-layer keys and values, (1, kv_heads, length, d)."""

    def __init__(self, kind, layers, capacity, kv_heads, head_dim, dtype):
        self.kind, self.length = kind, 0
        if kind == "static":
            self.k = [torch.zeros(1, kv_heads, capacity, head_dim, dtype=dtype) for _ in range(layers)]
            self.v = [torch.zeros(1, kv_heads, capacity, head_dim, dtype=dtype) for _ in range(layers)]
        else:
            self.k, self.v = [None] * layers, [None] * layers

    def update(self, i, k, v):
        """Appends this step's k, v (1, kv, t, d) to layer i; returns the layer's keys and values so far."""
        t = k.shape[2]
        if self.kind == "static":
            at = torch.arange(self.length, self.length + t)
            self.k[i].index_copy_(2, at, k)
            self.v[i].index_copy_(2, at, v)
            n = self.length + t
            return self.k[i][:, :, :n], self.v[i][:, :, :n]
        if self.k[i] is None:
            self.k[i], self.v[i] = k, v
        else:
            self.k[i] = torch.cat([self.k[i], k], dim=2)
            self.v[i] = torch.cat([self.v[i], v], dim=2)
        return self.k[i], self.v[i]


def forward(model, ids, cache, dtype):
    """Logits (V,) of the last position of ids (1, t), appended to the cache."""
    t = ids.shape[1]
    start = cache.length
    h = F.embedding(ids, model.embed).to(dtype)
    cos, sin = rope(model, torch.arange(start, start + t), dtype)
    mask = None
    if t > 1:   # prefill (an empty cache): causal
        mask = torch.full((t, t), torch.finfo(dtype).min, dtype=dtype).triu(1)[None, None]
    hd, nh, nkv = model.head_dim, model.t_heads, model.t_kv
    rep = nh // nkv
    for i, L in enumerate(model.text):
        x = peer.rms_norm(h, L.ln1, model.t_eps)
        q = L.q(x).view(1, t, nh, hd).transpose(1, 2)
        k = L.k(x).view(1, t, nkv, hd).transpose(1, 2)
        v = L.v(x).view(1, t, nkv, hd).transpose(1, 2)
        q = q * cos + peer.rotate_half(q) * sin
        k = k * cos + peer.rotate_half(k) * sin
        k, v = cache.update(i, k, v)
        n = k.shape[2]
        if rep > 1:   # repeat_kv
            k = k[:, :, None].expand(1, nkv, rep, n, hd).reshape(1, nh, n, hd)
            v = v[:, :, None].expand(1, nkv, rep, n, hd).reshape(1, nh, n, hd)
        scores = (q @ k.transpose(-1, -2)) * hd ** -0.5
        if mask is not None:
            scores = scores + mask
        a = torch.softmax(scores, dim=-1, dtype=torch.float32).to(dtype) @ v
        h = h + L.o(a.transpose(1, 2).reshape(1, t, nh * hd))
        x = peer.rms_norm(h, L.ln2, model.t_eps)
        h = h + L.down(F.silu(L.gate(x)) * L.up(x))
    cache.length += t
    last = peer.rms_norm(h[:, -1], model.norm, model.t_eps)
    return model.lm_head(last)[0].float()


def decode(model, prompt, new, kind, dtype):
    """(tokens, decode tokens/s after the first, prefill seconds)."""
    cache = Cache(kind, model.t_layers, prompt.shape[1] + new, model.t_kv, model.head_dim, dtype)
    start = time.perf_counter()
    logits = forward(model, prompt, cache, dtype)
    tokens, stamps = [], []
    for step in range(new):
        nxt = int(torch.argmax(logits))
        tokens.append(nxt)
        stamps.append(time.perf_counter())
        if step == new - 1:
            break
        logits = forward(model, torch.tensor([[nxt]]), cache, dtype)
    return tokens, (len(stamps) - 1) / (stamps[-1] - stamps[0]), stamps[0] - start


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--model", required=True, help="checkpoint folder (config.json + *.safetensors)")
    p.add_argument("--ids", required=True, help="the JSON `VlmTune.Bench decode --dump FILE` wrote")
    p.add_argument("--new", type=int, help="tokens to generate (default: as many as the dump holds)")
    p.add_argument("--rounds", type=int, default=1)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--cache", default="dynamic,static", help="comma-separated: dynamic (torch.cat), static")
    p.add_argument("--dtype", default="f32", help="comma-separated weight/activation dtypes: f32, bf16")
    p.add_argument("--label", default="")
    a = p.parse_args(argv)
    torch.set_num_threads(a.threads)
    with open(os.path.join(a.model, "config.json")) as f:
        cfg = json.load(f)
    with open(a.ids) as f:
        dump = json.load(f)
    theirs = dump["tokens"]
    new = a.new or len(theirs)
    prompt = torch.tensor([dump["prompt"]], dtype=torch.long)
    weights = peer.load_checkpoint(a.model)
    runtime = peer.runtime_setup()
    for name in a.dtype.split(","):
        dtype = {"f32": torch.float32, "bf16": torch.bfloat16}[name]
        model = peer.SmolVlm(cfg, {k: v.to(dtype) if v.is_floating_point() else v for k, v in weights.items()})
        model.eval()
        with torch.inference_mode():
            decode(model, prompt[:, :64], 4, "dynamic", dtype)   # warm-up
            for rnd in range(1, a.rounds + 1):
                for kind in a.cache.split(","):
                    tokens, tps, prefill = decode(model, prompt, new, kind, dtype)
                    same = next((i for i, (x, y) in enumerate(zip(tokens, theirs)) if x != y), min(len(tokens), len(theirs)))
                    print(json.dumps({
                        "bench": "decode-peer", "label": a.label, "round": rnd, "cache": kind, "dtype": name,
                        "prompt": prompt.shape[1], "new": new, "tokens_per_s": round(tps, 3),
                        "prefill_s": round(prefill, 3), "matching_tokens": same, "of": min(len(tokens), len(theirs)),
                        "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
                        "threads": a.threads, "torch": torch.__version__, "runtime": runtime}), flush=True)
        del model


if __name__ == "__main__":
    main()
