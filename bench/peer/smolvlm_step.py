#!/usr/bin/env python3
"""Eager-PyTorch CPU peer of one VlmTune SFT step on SmolVLM (Idefics3): the second 256M benchmark of issue 14.

The model is written here, in plain torch, from the formulas of the Hugging Face modelling code, not from VlmTune:
  - vision tower: transformers models/idefics3/modeling_idefics3.py (Idefics3VisionEmbeddings: patch Conv2d, NaViT
    position-id bucketing from the patch mask; Idefics3VisionTransformer / Idefics3EncoderLayer: SigLIP-style pre-LN
    layers, eager attention with the softmax in f32, gelu_pytorch_tanh MLP, post_layernorm); padding images (all
    zeros) dropped and the pixel mask reduced per patch as Idefics3Model.get_image_features does;
  - connector: Idefics3Connector pixel_shuffle (view/permute/reshape) + Idefics3SimpleMLP (one bias-free Linear);
  - merge: every <image> position of input_ids takes the next image-feature row, in order (inputs_merger);
  - text: models/llama/modeling_llama.py (RMSNorm in f32, RoPE rotate_half with default inv_freq, GQA repeat_kv,
    causal + padding mask, SwiGLU MLP), final norm, untied lm_head;
  - loss: the HF causal-LM shift (position t predicts labels[t+1]), cross-entropy summed over labels != -100 and
    divided by their count (VlmTune's token-normalised loss; the same as HF's mean for one micro-batch);
  - adapters: PEFT tuners/lora/layer.py + dora.py: y = base(x) + s·B(A(drop(x))), s = alpha/r (alpha/√r rsLoRA);
    "gaussian" init A ~ N(0, 1/r), default init A kaiming_uniform(a=√5), B = 0; DoRA: m initialised to the row norms
    ‖W + s·BA‖, and y = base(x) + (m/n − 1)·W·drop(x) + (m/n)·s·B(A(drop(x))) with n = ‖W + s·BA‖_row recomputed
    every forward and detached (DoRA §4.3); without active dropout W·x is the base output minus its bias.
What is trained: the LoRA A/B (and DoRA m) of the Linear layers the recipe's lora.targets / targets_regex select in
the recipe's lora.towers (never lm_head; the selection is bench/gpu/hf_peer.py's select_targets), plus the modules of
lora.modules_to_save in full. Training semantics follow the recipe as VlmTune's trainer reads it: gradient
checkpointing per decoder layer and per vision encoder layer (torch.utils.checkpoint, non-reentrant), AdamW (lr,
betas, eps, weight_decay on every trainable tensor), transformers' schedule (linear warm-up from 0, then constant /
linear / cosine decay to 0 at max_steps), clip_grad_norm_ to max_grad_norm, dropout only on the LoRA branch input.
A frozen vision tower (no adapter in it) runs under torch.no_grad(), so nothing of it is recorded for backward.

Deliberate differences from a HF Trainer run, all stated in the JSON:
  - the frozen base is f32 (bf16 checkpoint values widened exactly). bitsandbytes is not available on the CPU here,
    so there is no NF4 base: against VlmTune's QLoRA the first-step loss differs by NF4's rounding; against VlmTune
    with quantization.enabled=false it should agree to ~1e-5 relative;
  - by default lm_head is applied only at the supervised rows (--logits supervised): the same loss as full logits,
    and the work VlmTune does; --logits all computes the (B, T, V) logits as HF's forward does;
  - eager attention: PyTorch 1.13 (Debian) has no scaled_dot_product_attention.
Dropout masks come from torch's generator, not VlmTune's stream; at step 1 they do not change the loss (B = 0, and
for DoRA m/n = 1), only the gradients, so losses after step 1 drift apart (dropout > 0) while the work stays the same.

    /usr/bin/python3 bench/peer/smolvlm_step.py --model CKPT --batch batch.safetensors \
        --recipe RUN/recipe.resolved.yaml --warmup 1 --steps 3 [--threads N] [--towers text] [--logits all]

Input: the checkpoint folder (config.json + *.safetensors, HF layout, as `vlmtune init --like smolvlm-256m` writes)
and the batch `VlmTune.GpuCheck sft-batch RECIPE --out FILE` writes (input_ids, attention_mask, labels I64 (B, T);
pixel_values F32 (B, N, 3, M, M); pixel_attention_mask BOOL (B, N, M, M)). Safetensors are parsed here (struct +
json + torch.frombuffer). Runs W warm-up then N timed steps on that batch and prints one JSON line: tokens_per_s
(attention_mask.sum() per step / mean timed step seconds), step_s, peak_rss_mb (ru_maxrss), loss_first, losses,
trainable_params, torch version, threads, and the allocator / BLAS core loaded (as torch_train_step.py reports them).
"""
import argparse
import json
import math
import os
import re
import resource
import struct
import sys
import time
import types

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "gpu"))
sys.path.insert(0, os.path.join(HERE, "..", "VlmTune.Bench"))
import hf_peer  # noqa: E402  (our own file: recipe reading, target selection; no transformers import at module level)


# ---------------------------------------------------------------- safetensors, parsed here

_DTYPES = {"F32": torch.float32, "BF16": torch.bfloat16, "F16": torch.float16, "I64": torch.int64,
           "I32": torch.int32, "BOOL": torch.bool, "U8": torch.uint8}


def safetensors_header(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        return json.loads(f.read(n).decode("utf-8")), 8 + n


def read_tensors(path, want=None, widen=True):
    """{name: tensor} of a .safetensors file, one tensor read at a time; bf16/f16 widened to f32 when widen."""
    header, base = safetensors_header(path)
    out = {}
    with open(path, "rb") as f:
        for name, info in header.items():
            if name == "__metadata__" or (want is not None and name not in want):
                continue
            dt = _DTYPES.get(info["dtype"])
            if dt is None:
                raise ValueError(f"{path}: {name} has unsupported dtype {info['dtype']}")
            start, end = info["data_offsets"]
            f.seek(base + start)
            buf = bytearray(f.read(end - start))
            t = torch.frombuffer(buf, dtype=dt) if buf else torch.empty(0, dtype=dt)   # shares buf's memory
            t = t.reshape(info["shape"])
            if widen and dt in (torch.bfloat16, torch.float16):
                t = t.float()                                                   # exact for bf16
            out[name] = t
    return out


def load_checkpoint(model_dir):
    weights = {}
    for name in sorted(os.listdir(model_dir)):
        if name.endswith(".safetensors"):
            weights.update(read_tensors(os.path.join(model_dir, name)))
    # tolerate a `model.text_model.model.` prefix (smolvlm.md §3.2)
    fixed = {}
    for k, v in weights.items():
        fixed[k.replace("model.text_model.model.", "model.text_model.")] = v
    return fixed


# ---------------------------------------------------------------- adapters (PEFT's LoRA / DoRA formulas)

class Linear(torch.nn.Module):
    """A frozen Linear (weight (out, in), optional bias) with an optional LoRA/DoRA branch."""

    def __init__(self, name, weight, bias=None):
        super().__init__()
        self.name = name
        self.register_buffer("weight", weight, persistent=False)
        self.register_buffer("bias", bias, persistent=False)
        self.lora = False
        self.full = False

    @property
    def out_features(self):
        return self.weight.shape[0]

    @property
    def in_features(self):
        return self.weight.shape[1]

    def add_lora(self, r, alpha, dropout, use_dora, use_rslora, init):
        self.lora, self.r, self.p = True, r, dropout
        self.scaling = alpha / math.sqrt(r) if use_rslora else alpha / r
        self.A = torch.nn.Parameter(torch.empty(r, self.in_features))
        self.B = torch.nn.Parameter(torch.zeros(self.out_features, r))
        if init == "gaussian":
            torch.nn.init.normal_(self.A, mean=0.0, std=1.0 / r)
        else:
            torch.nn.init.kaiming_uniform_(self.A, a=math.sqrt(5))
        self.dora = use_dora
        if use_dora:
            self.m = torch.nn.Parameter(self.row_norm())

    def train_in_full(self):
        """modules_to_save: the weight itself becomes a trainable parameter."""
        w = self.weight
        del self.weight
        self.weight = torch.nn.Parameter(w.clone())
        if self.bias is not None:
            b = self.bias
            del self.bias
            self.bias = torch.nn.Parameter(b.clone())
        self.full = True

    @torch.no_grad()
    def row_norm(self):
        w = self.weight + self.scaling * (self.B.detach() @ self.A.detach())
        return torch.linalg.norm(w, dim=1)

    def forward(self, x):
        y = F.linear(x, self.weight, self.bias)
        if not self.lora:
            return y
        dropping = self.training and self.p > 0
        xd = F.dropout(x, self.p, training=True) if dropping else x
        lora = F.linear(F.linear(xd, self.A), self.B) * self.scaling
        if not self.dora:
            return y + lora
        g = self.m / self.row_norm()                       # n is a constant (detached)
        if dropping:
            y0 = F.linear(xd, self.weight)
        else:
            y0 = y if self.bias is None else y - self.bias
        return y + (g - 1) * y0 + g * lora


# ---------------------------------------------------------------- the model

def layer_norm(x, w, b, eps):
    return F.layer_norm(x, (x.shape[-1],), w, b, eps)


def rms_norm(x, w, eps):
    xf = x.float()
    return (xf * torch.rsqrt(xf.pow(2).mean(-1, keepdim=True) + eps)).to(x.dtype) * w


def rotate_half(x):
    h = x.shape[-1] // 2
    return torch.cat((-x[..., h:], x[..., :h]), dim=-1)


class SmolVlm(torch.nn.Module):
    def __init__(self, cfg, weights):
        super().__init__()
        v, t = cfg.get("vision_config", {}), cfg.get("text_config", {})
        self.image_token_id = cfg["image_token_id"]
        self.scale = cfg.get("scale_factor", 2)
        # vision (Idefics3VisionConfig class defaults where a key is absent)
        self.v_hidden = v.get("hidden_size", 1152)
        self.v_heads = v.get("num_attention_heads", 16)
        self.v_layers = v.get("num_hidden_layers", 12)
        self.patch = v.get("patch_size", 32)
        self.image_size = v.get("image_size", 224)
        self.v_eps = v.get("layer_norm_eps", 1e-6)
        act = v.get("hidden_act", "gelu_pytorch_tanh")
        if act not in ("gelu_pytorch_tanh", "gelu"):
            raise ValueError(f"vision hidden_act {act!r} not supported")
        self.v_act = (lambda z: F.gelu(z, approximate="tanh")) if act == "gelu_pytorch_tanh" else F.gelu
        # text (Llama class defaults where a key is absent; rms_norm_eps 1e-6 is Llama's, smolvlm.md §9)
        self.t_hidden = t.get("hidden_size", 4096)
        self.t_heads = t.get("num_attention_heads", 32)
        self.t_kv = t.get("num_key_value_heads", self.t_heads)
        self.t_layers = t.get("num_hidden_layers", 32)
        self.head_dim = t.get("head_dim") or self.t_hidden // self.t_heads
        self.t_eps = t.get("rms_norm_eps", 1e-6)
        self.rope_theta = t.get("rope_theta", (t.get("rope_parameters") or {}).get("rope_theta", 10000.0))
        if t.get("rope_scaling"):
            raise ValueError("rope_scaling is not supported by this peer")
        if t.get("hidden_act", "silu") != "silu":
            raise ValueError(f"text hidden_act {t.get('hidden_act')!r} not supported")
        self.gradient_checkpointing = True

        W = weights
        self.used = set()

        def take(name):
            self.used.add(name)
            return W[name]

        def opt(name):
            if name in W:
                self.used.add(name)
                return W[name]
            return None

        self.linears = torch.nn.ModuleDict()

        def lin(name, bias=True):
            m = Linear(name, take(name + ".weight"), opt(name + ".bias") if bias else None)
            self.linears[name.replace(".", "__")] = m
            return m

        vp = "model.vision_model."
        self.patch_w = take(vp + "embeddings.patch_embedding.weight")
        self.patch_b = take(vp + "embeddings.patch_embedding.bias")
        self.pos_emb = take(vp + "embeddings.position_embedding.weight")
        self.vision = []
        for i in range(self.v_layers):
            p = f"{vp}encoder.layers.{i}."
            self.vision.append(types.SimpleNamespace(
                ln1_w=take(p + "layer_norm1.weight"), ln1_b=take(p + "layer_norm1.bias"),
                q=lin(p + "self_attn.q_proj"), k=lin(p + "self_attn.k_proj"), v=lin(p + "self_attn.v_proj"),
                o=lin(p + "self_attn.out_proj"),
                ln2_w=take(p + "layer_norm2.weight"), ln2_b=take(p + "layer_norm2.bias"),
                fc1=lin(p + "mlp.fc1"), fc2=lin(p + "mlp.fc2")))
        self.post_w, self.post_b = take(vp + "post_layernorm.weight"), take(vp + "post_layernorm.bias")
        self.proj = lin("model.connector.modality_projection.proj", bias=False)
        tp = "model.text_model."
        self.embed = take(tp + "embed_tokens.weight")
        self.text = []
        for i in range(self.t_layers):
            p = f"{tp}layers.{i}."
            self.text.append(types.SimpleNamespace(
                ln1=take(p + "input_layernorm.weight"), ln2=take(p + "post_attention_layernorm.weight"),
                q=lin(p + "self_attn.q_proj", False), k=lin(p + "self_attn.k_proj", False),
                v=lin(p + "self_attn.v_proj", False), o=lin(p + "self_attn.o_proj", False),
                gate=lin(p + "mlp.gate_proj", False), up=lin(p + "mlp.up_proj", False),
                down=lin(p + "mlp.down_proj", False)))
        self.norm = take(tp + "norm.weight")
        if "lm_head.weight" in W:
            self.lm_head = lin("lm_head", bias=False)
        else:   # tied embeddings
            self.lm_head = Linear("lm_head", self.embed)
            self.linears["lm_head"] = self.lm_head
        self.unused = sorted(set(W) - self.used)

    # -------- vision (Idefics3VisionTransformer)

    def position_ids(self, patch_mask):
        """NaViT bucketing of Idefics3VisionEmbeddings (the original formula); the identity for full tiles."""
        n, gh, gw = patch_mask.shape
        k = self.image_size // self.patch
        if bool(patch_mask.all()) and gh == k and gw == k:
            return torch.arange(k * k).expand(n, -1)
        boundaries = torch.arange(1 / k, 1.0, 1 / k)
        ids = torch.zeros(n, gh * gw, dtype=torch.long)
        for i in range(n):
            m = patch_mask[i]
            nb_h, nb_w = int(m[:, 0].sum()), int(m[0].sum())
            fh = torch.arange(0, 1 - 1e-6, 1 / nb_h)
            fw = torch.arange(0, 1 - 1e-6, 1 / nb_w)
            bh = torch.bucketize(fh, boundaries, right=True)
            bw = torch.bucketize(fw, boundaries, right=True)
            ids[i][m.reshape(-1)] = (bh[:, None] * k + bw).reshape(-1)
        return ids

    def vision_layer(self, h, L, mask):
        n, s, d = h.shape
        hd = d // self.v_heads
        x = layer_norm(h, L.ln1_w, L.ln1_b, self.v_eps)
        q = L.q(x).view(n, s, self.v_heads, hd).transpose(1, 2)
        k = L.k(x).view(n, s, self.v_heads, hd).transpose(1, 2)
        v = L.v(x).view(n, s, self.v_heads, hd).transpose(1, 2)
        scores = (q @ k.transpose(-1, -2)) * hd ** -0.5
        if mask is not None:
            scores = scores + mask
        a = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype) @ v
        h = h + L.o(a.transpose(1, 2).reshape(n, s, d))
        x = layer_norm(h, L.ln2_w, L.ln2_b, self.v_eps)
        return h + L.fc2(self.v_act(L.fc1(x)))

    def pixel_shuffle(self, x):
        n, s, d = x.shape
        h = w = int(math.isqrt(s))
        r = self.scale
        x = x.view(n, h, w, d).view(n, h, w // r, d * r).permute(0, 2, 1, 3)
        x = x.reshape(n, w // r, h // r, d * r * r).permute(0, 2, 1, 3)
        return x.reshape(n, s // (r * r), d * r * r)

    def image_features(self, pixel_values, pixel_mask, checkpointed):
        b, nimg = pixel_values.shape[:2]
        pv = pixel_values.reshape(b * nimg, *pixel_values.shape[2:])
        real = (pv == 0.0).flatten(1).sum(1) != pv[0].numel()
        if not bool(real.any()):
            real[0] = True
        pv = pv[real]
        if pixel_mask is None:
            pm = torch.ones(pv.shape[0], pv.shape[2], pv.shape[3], dtype=torch.bool)
        else:
            pm = pixel_mask.reshape(b * nimg, *pixel_mask.shape[2:])[real].bool()
        p = self.patch
        patch_mask = pm.unfold(1, p, p).unfold(2, p, p).sum(dim=(-1, -2)) > 0          # (n, G, G)
        h = F.conv2d(pv, self.patch_w, self.patch_b, stride=p)                          # (n, D, G, G)
        h = h.flatten(2).transpose(1, 2)
        h = h + self.pos_emb[self.position_ids(patch_mask)]
        flat = patch_mask.reshape(patch_mask.shape[0], -1)
        mask = None
        if not bool(flat.all()):
            mask = (~flat)[:, None, None, :].to(h.dtype) * torch.finfo(h.dtype).min
        for L in self.vision:
            if checkpointed:
                h = checkpoint(self.vision_layer, h, L, mask, use_reentrant=False)
            else:
                h = self.vision_layer(h, L, mask)
        h = layer_norm(h, self.post_w, self.post_b, self.v_eps)
        return self.proj(self.pixel_shuffle(h))

    # -------- text (LlamaModel)

    def text_layer(self, h, L, cos, sin, mask):
        b, t, _ = h.shape
        hd, nh, nkv = self.head_dim, self.t_heads, self.t_kv
        x = rms_norm(h, L.ln1, self.t_eps)
        q = L.q(x).view(b, t, nh, hd).transpose(1, 2)
        k = L.k(x).view(b, t, nkv, hd).transpose(1, 2)
        v = L.v(x).view(b, t, nkv, hd).transpose(1, 2)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        rep = nh // nkv
        if rep > 1:
            k = k[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
            v = v[:, :, None].expand(b, nkv, rep, t, hd).reshape(b, nh, t, hd)
        scores = (q @ k.transpose(-1, -2)) * hd ** -0.5 + mask
        a = torch.softmax(scores, dim=-1, dtype=torch.float32).to(q.dtype) @ v
        h = h + L.o(a.transpose(1, 2).reshape(b, t, nh * hd))
        x = rms_norm(h, L.ln2, self.t_eps)
        return h + L.down(F.silu(L.gate(x)) * L.up(x))

    def hidden(self, input_ids, attention_mask, pixel_values=None, pixel_mask=None, vision_trained=False):
        b, t = input_ids.shape
        h = F.embedding(input_ids, self.embed)
        if pixel_values is not None and bool((input_ids == self.image_token_id).any()):
            if vision_trained:
                feats = self.image_features(pixel_values, pixel_mask, self.gradient_checkpointing and self.training)
            else:
                with torch.no_grad():
                    feats = self.image_features(pixel_values, pixel_mask, False)
            where = input_ids == self.image_token_id
            rows = feats.reshape(-1, feats.shape[-1])
            if int(where.sum()) != rows.shape[0]:
                raise ValueError(f"{int(where.sum())} <image> tokens but {rows.shape[0]} image-feature rows")
            h = h.masked_scatter(where[..., None], rows.to(h.dtype))       # rows consumed in order
        # RoPE (default rope type), positions 0..T-1 as in training without a cache
        inv = 1.0 / (self.rope_theta ** (torch.arange(0, self.head_dim, 2, dtype=torch.int64).float() / self.head_dim))
        freqs = torch.arange(t, dtype=torch.float32)[:, None] * inv[None, :]
        emb = torch.cat((freqs, freqs), dim=-1)
        cos, sin = emb.cos().to(h.dtype), emb.sin().to(h.dtype)
        minv = torch.finfo(h.dtype).min
        causal = torch.full((t, t), minv, dtype=h.dtype).triu(1)
        mask = causal[None, None].expand(b, 1, t, t)
        if attention_mask is not None and not bool(attention_mask.bool().all()):
            pad = (~attention_mask.bool())[:, None, None, :]
            mask = mask.masked_fill(pad, minv)
        for L in self.text:
            if self.gradient_checkpointing and self.training:
                h = checkpoint(self.text_layer, h, L, cos, sin, mask, use_reentrant=False)
            else:
                h = self.text_layer(h, L, cos, sin, mask)
        return rms_norm(h, self.norm, self.t_eps)

    def loss(self, hidden, labels, logits_mode):
        """Sum of the shifted cross-entropy over labels != -100, divided by their count."""
        shift = labels[:, 1:]
        h = hidden[:, :-1]
        keep = shift != -100
        count = int(keep.sum())
        if logits_mode == "all":
            logits = self.lm_head(h)
            return F.cross_entropy(logits.reshape(-1, logits.shape[-1]).float(), shift.reshape(-1),
                                   ignore_index=-100, reduction="sum") / max(1, count), count
        logits = self.lm_head(h[keep])
        return F.cross_entropy(logits.float(), shift[keep], reduction="sum") / max(1, count), count


# ---------------------------------------------------------------- runtime report (as bench/VlmTune.Bench/torch_train_step.py)

def runtime_setup():
    try:
        import torch_train_step  # noqa: PLC0415  (our twin; its runtime_setup reads /proc/self/maps)
        return torch_train_step.runtime_setup()
    except Exception as e:  # noqa: BLE001
        return f"unknown ({type(e).__name__}: {e})"


def load_adapter(folder, by_name, targets, saved):
    """Copies a PEFT adapter's tensors (base_model.model.<path>.lora_A.weight / lora_B.weight / lora_magnitude_vector,
    modules_to_save as <path>.modules_to_save.default.weight or <path>.weight) into the adapted layers."""
    t = read_tensors(os.path.join(folder, "adapter_model.safetensors"))
    t = {k[len("base_model.model."):] if k.startswith("base_model.model.") else k: v for k, v in t.items()}
    with torch.no_grad():
        for n in targets:
            m = by_name[n]
            m.A.copy_(t[n + ".lora_A.weight"])
            m.B.copy_(t[n + ".lora_B.weight"])
            if m.dora:
                m.m.copy_(t[n + ".lora_magnitude_vector"])
        for n in saved:
            key = next(k for k in (n + ".modules_to_save.default.weight", n + ".weight") if k in t)
            by_name[n].weight.copy_(t[key])


def lr_at(kind, peak, step, warmup, total):
    """transformers' schedulers: linear warm-up from 0, then constant / linear / cosine decay to 0 at total."""
    if warmup > 0 and step < warmup:
        return peak * step / warmup
    if kind == "constant":
        return peak
    progress = 1.0 if total <= warmup else min(1.0, max(0.0, (step - warmup) / (total - warmup)))
    if kind == "linear":
        return peak * (1.0 - progress)
    return peak * 0.5 * (1.0 + math.cos(math.pi * progress))


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder (config.json + *.safetensors)")
    p.add_argument("--batch", required=True, help="`VlmTune.GpuCheck sft-batch` safetensors")
    p.add_argument("--recipe", required=True, help="VlmTune recipe (best: the run's recipe.resolved.yaml)")
    p.add_argument("--steps", type=int, default=3, help="timed steps (default 3)")
    p.add_argument("--warmup", type=int, default=1, help="untimed warm-up steps first (default 1)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch.set_num_threads (default: all cores)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--towers", help="comma-separated override of lora.towers (text, vision, connector)")
    p.add_argument("--no-dora", dest="use_dora", action="store_false", default=None)
    p.add_argument("--dropout", type=float, help="override lora.dropout")
    p.add_argument("--logits", choices=["supervised", "all"], default="supervised",
                   help="lm_head at the supervised rows only (VlmTune's work, default) or at all rows (HF's forward)")
    p.add_argument("--total-steps", type=int, help="schedule length (default: the recipe's train.max_steps, else warmup+steps)")
    p.add_argument("--init-adapter", metavar="DIR",
                   help="start from this PEFT adapter's A/B (and m) instead of a fresh draw: a correctness check that "
                        "makes gradients comparable (e.g. VlmTune's adapter after one step at lr 0, dropout 0)")
    p.add_argument("--count-only", action="store_true", help="print the adapted modules and trainable count, then exit")
    p.add_argument("--label", default="")
    p.add_argument("--verbose", action="store_true")
    a = p.parse_args(argv)

    torch.set_num_threads(a.threads)
    torch.manual_seed(a.seed)
    recipe = hf_peer.load_recipe(a.recipe)
    ns = types.SimpleNamespace(targets=None, towers=a.towers, lora_r=None, lora_alpha=None, lora_dropout=a.dropout,
                               use_dora=a.use_dora, init=None, lr=None, weight_decay=None, max_grad_norm=None,
                               gradient_checkpointing=None)
    s = hf_peer.lora_settings(ns, recipe)
    train = recipe.get("train", {}) or {}
    betas = train.get("betas", [0.9, 0.999])
    if isinstance(betas, dict):
        betas = [betas.get("beta1", 0.9), betas.get("beta2", 0.999)]
    eps = float(train.get("eps", 1e-8))
    schedule = str(train.get("schedule", "linear"))
    total = a.total_steps or int(train.get("max_steps") or 0) or (a.warmup + a.steps)
    warmup_steps = int(train.get("warmup_steps") or 0) or int(math.ceil(float(train.get("warmup_ratio") or 0) * total))

    with open(os.path.join(a.model, "config.json"), encoding="utf-8") as f:
        cfg = json.load(f)
    t0 = time.perf_counter()
    model = SmolVlm(cfg, load_checkpoint(a.model))
    load_s = time.perf_counter() - t0
    model.gradient_checkpointing = s["gradient_checkpointing"]

    names = [m.name for m in model.linears.values()]
    targets = hf_peer.select_targets(names, s)
    if not targets:
        raise SystemExit(f"no Linear matches targets {s['targets']} in towers {s['towers']}")
    by_name = {m.name: m for m in model.linears.values()}
    for n in targets:          # model order, so the seeded A draws follow the module order
        by_name[n].add_lora(s["r"], s["alpha"], s["dropout"], s["use_dora"], s["use_rslora"], s["init"])
    saved = []
    for n in s["modules_to_save"]:
        if n not in by_name:
            raise SystemExit(f"modules_to_save: no Linear {n!r}")
        by_name[n].train_in_full()
        saved.append(n)
    if a.init_adapter:
        load_adapter(a.init_adapter, by_name, targets, saved)
    params = [q for q in model.parameters() if q.requires_grad]
    trainable = sum(q.numel() for q in params)
    if a.count_only:
        towers = {}
        for n in targets:
            towers[hf_peer.tower_of(n)] = towers.get(hf_peer.tower_of(n), 0) + 1
        print(json.dumps({"tool": "smolvlm_step", "count_only": True, "trainable_params": trainable,
                          "adapted_linears": len(targets), "by_tower": towers, "modules_to_save": saved}))
        return 0
    vision_trained = any(hf_peer.tower_of(n) in ("vision", "connector") for n in targets + saved)
    model.train()

    batch = read_tensors(a.batch)
    ids, am, labels = batch["input_ids"], batch["attention_mask"], batch["labels"]
    pv, pm = batch.get("pixel_values"), batch.get("pixel_attention_mask")
    tokens = int(am.sum())
    opt = torch.optim.AdamW(params, lr=s["lr"], betas=(float(betas[0]), float(betas[1])), eps=eps,
                            weight_decay=s["weight_decay"])

    times, losses, norms, norms64, lrs = [], [], [], [], []
    for step in range(a.warmup + a.steps):
        t = time.perf_counter()
        lr = lr_at(schedule, s["lr"], step, warmup_steps, total)
        for g in opt.param_groups:
            g["lr"] = lr
        opt.zero_grad(set_to_none=True)
        h = model.hidden(ids, am, pv, pm, vision_trained)
        loss, supervised = model.loss(h, labels, a.logits)
        loss.backward()
        norms64.append(math.sqrt(sum(float((q.grad.double() ** 2).sum()) for q in params if q.grad is not None)))
        if s["max_grad_norm"] > 0:
            norm = float(torch.nn.utils.clip_grad_norm_(params, s["max_grad_norm"]))
        else:
            norm = float(torch.sqrt(sum((q.grad.double() ** 2).sum() for q in params if q.grad is not None)))
        opt.step()
        dt = time.perf_counter() - t
        losses.append(float(loss.detach()))
        norms.append(norm)
        lrs.append(lr)
        if step >= a.warmup:
            times.append(dt)
        if a.verbose:
            print(f"smolvlm_step: step {step + 1}/{a.warmup + a.steps}{' (warm-up)' if step < a.warmup else ''} "
                  f"{dt:.3f} s loss {losses[-1]:.6f} grad_norm {norm:.4f} lr {lr:.3g}", file=sys.stderr, flush=True)
    mean = sum(times) / len(times)
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 / 1e6
    result = {
        "tool": "smolvlm_step", "label": a.label, "model": os.path.abspath(a.model), "batch": os.path.abspath(a.batch),
        "batch_shape": list(ids.shape), "tiles": list(pv.shape[:2]) if pv is not None else None,
        "tokens_per_step": tokens, "supervised_tokens": supervised,
        "tokens_per_s": round(tokens / mean, 2), "step_s": [round(x, 4) for x in times], "step_s_mean": round(mean, 4),
        "warmup": a.warmup, "steps": a.steps, "peak_rss_mb": round(rss_mb, 1),
        "loss_first": losses[0], "losses": losses, "grad_norm": norms, "grad_norm_f64": norms64, "lr": lrs,
        "trainable_params": trainable, "adapted_linears": len(targets), "modules_to_save": saved,
        "towers": s["towers"], "targets": s["targets"], "r": s["r"], "alpha": s["alpha"], "dropout": s["dropout"],
        "use_dora": s["use_dora"], "init": s["init"], "gradient_checkpointing": s["gradient_checkpointing"],
        "vision_trained": vision_trained, "init_adapter": a.init_adapter, "logits": a.logits, "base_dtype": "f32 (no NF4: no bitsandbytes on the CPU)",
        "schedule": schedule, "warmup_steps": warmup_steps, "total_steps": total,
        "unused_checkpoint_tensors": model.unused[:5], "load_s": round(load_s, 2),
        "torch": torch.__version__, "threads": torch.get_num_threads(), "runtime": runtime_setup(),
    }
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
