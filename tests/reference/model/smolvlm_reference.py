#!/usr/bin/python3
"""An independent SmolVLM / Idefics3 forward pass written with plain PyTorch ops (no transformers).

Run `/usr/bin/python3 tests/reference/model/smolvlm_reference.py` to (re)write tests/fixtures/model/ (the driver
lives in make_model_fixtures.py; see README.md next to this file).

The computation follows /work/shared/spec/smolvlm.md §2 and re-expresses, without copying, these transformers
functions (read through the code search; huggingface/transformers @00b676f8 / @b282e23b):
  * models/smolvlm/modeling_smolvlm.py: SmolVLMVisionEmbeddings.forward (patch conv + NaViT position bucketing),
    SmolVLMVisionAttention / eager_attention_forward, SmolVLMVisionMLP, SmolVLMEncoderLayer (pre-LN),
    SmolVLMVisionTransformer.forward (key mask only when some patch is masked; post_layernorm),
    SmolVLMConnector.pixel_shuffle + SmolVLMSimpleMLP (bias-free proj), SmolVLMModel.get_image_features
    (all-zero padding images dropped, pixel mask -> patch mask by "any pixel in the patch"),
    SmolVLMModel.inputs_merger (k-th <image> of a sample -> block offset + k // seq_len, row k % seq_len);
  * models/idefics3/modeling_idefics3.py: the same vision tower and the older merger (same order);
  * models/llama/modeling_llama.py: LlamaRMSNorm, LlamaRotaryEmbedding (default rope), rotate_half /
    apply_rotary_pos_emb, repeat_kv, eager_attention_forward, LlamaMLP, LlamaModel.forward (positions = arange);
  * modeling_attn_mask_utils.py: _prepare_4d_attention_mask (additive finfo.min on masked keys).

Every function takes the compute dtype from its inputs; the fixtures use float64 (weights and inputs are float32
values widened exactly), and the results are rounded once to float32 when stored.

`mutations` (a set of strings) deliberately injects known porting bugs; the driver uses them to measure how
strongly each fixture reacts to each bug. The reference itself always runs with an empty set.
"""

import math

import torch

# ----------------------------------------------------------------------------------------------------------------------
# Building blocks (shapes: n = images, S = patches per tile, D = width, L = tokens, B = batch)


def linear(x, w, b=None):
    """x [..., in] · w[out, in]ᵀ (+ b[out]) -> [..., out]"""
    y = torch.matmul(x, w.transpose(0, 1))
    return y if b is None else y + b


def layer_norm(x, w, b, eps):
    """Biased-variance LayerNorm over the last axis."""
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)
    return (x - mean) / torch.sqrt(var + eps) * w + b


def rms_norm(x, w, eps):
    """Llama RMSNorm: x · rsqrt(mean(x²) + eps) · w (no mean subtraction, no bias)."""
    return x * torch.rsqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def gelu_tanh(x):
    """gelu_pytorch_tanh: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³)))."""
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


def gelu_erf(x):
    return 0.5 * x * (1.0 + torch.erf(x / math.sqrt(2.0)))


def silu(x):
    return x * torch.sigmoid(x)


def softmax_rows(scores):
    m = scores.max(dim=-1, keepdim=True).values
    e = torch.exp(scores - m)
    return e / e.sum(dim=-1, keepdim=True)


# ----------------------------------------------------------------------------------------------------------------------
# Vision tower


def patch_mask_from_pixels(pixel_mask, patch):
    """pixel_mask [n, H, W] (nonzero = real) -> patch mask [n, H/P, W/P] bool: true when any pixel of the patch is real."""
    n, h, w = pixel_mask.shape
    blocks = (pixel_mask != 0).reshape(n, h // patch, patch, w // patch, patch)
    return blocks.any(dim=4).any(dim=2)


def vision_position_ids(patch_mask, patches_per_side, mutations=frozenset()):
    """
    NaViT bucketing, the original formula (transformers <= 4.54.1; spec §2.2 and errata §9), evaluated with
    torch's own float32 arange/bucketize so that the boundary values are exactly torch's.
    patch_mask [n, Gh, Gw] bool (a top-left rectangle per image) -> position ids [n, Gh·Gw] int64 (0 where masked).
    """
    n, gh, gw = patch_mask.shape
    k = patches_per_side
    if "identity_pos_ids" in mutations:
        return torch.arange(gh * gw, dtype=torch.int64).repeat(n, 1)
    boundaries = torch.arange(1 / k, 1.0, 1 / k, dtype=torch.float32)
    out = torch.zeros(n, gh * gw, dtype=torch.int64)
    for i in range(n):
        nb_h = int(patch_mask[i, :, 0].sum())
        nb_w = int(patch_mask[i, 0, :].sum())
        # 1 / (0-dim int64 tensor) is a float32 tensor in torch; reproduce that step size exactly.
        step_h = (torch.tensor(1.0, dtype=torch.float32) / torch.tensor(float(nb_h), dtype=torch.float32)).item()
        step_w = (torch.tensor(1.0, dtype=torch.float32) / torch.tensor(float(nb_w), dtype=torch.float32)).item()
        frac_h = torch.arange(0, 1 - 1e-6, step_h, dtype=torch.float32)
        frac_w = torch.arange(0, 1 - 1e-6, step_w, dtype=torch.float32)
        bucket_h = torch.bucketize(frac_h, boundaries, right=True)
        bucket_w = torch.bucketize(frac_w, boundaries, right=True)
        ids = (bucket_h[:, None] * k + bucket_w[None, :]).reshape(-1)
        valid = patch_mask[i].reshape(-1)
        if int(valid.sum()) != ids.numel():
            raise ValueError(f"image {i}: the patch mask is not a top-left rectangle ({int(valid.sum())} valid patches, "
                             f"{nb_h}x{nb_w} expected)")
        out[i, valid] = ids
    return out


def patchify(pixels, patch):
    """[n, C, H, W] -> [n, (H/P)·(W/P), C·P·P], patches row-major, each flattened in (channel, ky, kx) order."""
    n, c, h, w = pixels.shape
    g_h, g_w = h // patch, w // patch
    x = pixels[:, :, :g_h * patch, :g_w * patch].reshape(n, c, g_h, patch, g_w, patch)
    return x.permute(0, 2, 4, 1, 3, 5).reshape(n, g_h * g_w, c * patch * patch)


def vision_attention(h, wq, bq, wk, bk, wv, bv, wo, bo, heads, key_mask, mutations):
    """h [n, S, D]; key_mask [n, S] bool or None. Bidirectional multi-head attention."""
    n, s, d = h.shape
    hd = d // heads
    q = linear(h, wq, bq).reshape(n, s, heads, hd).transpose(1, 2)     # [n, H, S, hd]
    k = linear(h, wk, bk).reshape(n, s, heads, hd).transpose(1, 2)
    v = linear(h, wv, bv).reshape(n, s, heads, hd).transpose(1, 2)
    scores = torch.matmul(q, k.transpose(-1, -2)) * (hd ** -0.5)      # [n, H, S, S]
    if key_mask is not None and "no_vision_key_mask" not in mutations:
        additive = torch.zeros(n, 1, 1, s, dtype=h.dtype)
        additive[~key_mask[:, None, None, :]] = torch.finfo(h.dtype).min
        scores = scores + additive
    out = torch.matmul(softmax_rows(scores), v)                        # [n, H, S, hd]
    return linear(out.transpose(1, 2).reshape(n, s, d), wo, bo)


def vision_tower(W, cfg, pixels, patch_mask, mutations=frozenset()):
    """pixels [n, 3, H, W], patch_mask [n, Gh, Gw] bool -> (last_hidden_state after post_layernorm [n, S, D], pos ids)."""
    vc = cfg["vision_config"]
    p, eps, heads = vc["patch_size"], vc["layer_norm_eps"], vc["num_attention_heads"]
    if "ln_eps_1e-5" in mutations:
        eps = 1e-5
    pre = "model.vision_model."
    conv_w = W[pre + "embeddings.patch_embedding.weight"]                # [D, C, P, P]
    h = linear(patchify(pixels, p), conv_w.reshape(conv_w.shape[0], -1), W[pre + "embeddings.patch_embedding.bias"])
    pos_ids = vision_position_ids(patch_mask, vc["image_size"] // p, mutations)
    h = h + W[pre + "embeddings.position_embedding.weight"][pos_ids]
    flat_mask = patch_mask.reshape(patch_mask.shape[0], -1)
    key_mask = None if bool(flat_mask.all()) else flat_mask
    act = gelu_erf if "gelu_erf" in mutations else gelu_tanh
    for i in range(vc["num_hidden_layers"]):
        l = f"{pre}encoder.layers.{i}."
        x = layer_norm(h, W[l + "layer_norm1.weight"], W[l + "layer_norm1.bias"], eps)
        h = h + vision_attention(x, *(W[f"{l}self_attn.{nm}_proj.{wb}"] for nm in ("q", "k", "v", "out") for wb in ("weight", "bias")),
                                 heads=heads, key_mask=key_mask, mutations=mutations)
        x = layer_norm(h, W[l + "layer_norm2.weight"], W[l + "layer_norm2.bias"], eps)
        h = h + linear(act(linear(x, W[l + "mlp.fc1.weight"], W[l + "mlp.fc1.bias"])), W[l + "mlp.fc2.weight"], W[l + "mlp.fc2.bias"])
    return layer_norm(h, W[pre + "post_layernorm.weight"], W[pre + "post_layernorm.bias"], eps), pos_ids


# ----------------------------------------------------------------------------------------------------------------------
# Connector


def pixel_shuffle(x, r, mutations=frozenset()):
    """
    [n, S, D] -> [n, S/r², D·r²] by the closed-form map of spec §2.4:
    out[p·(w/r) + q, (i·r + j)·D + d] = x[(p·r + i)·w + (q·r + j), d].
    """
    n, s, d = x.shape
    side = math.isqrt(s)
    g = side // r
    grid = x.reshape(n, g, r, g, r, d)                 # [n, p, i, q, j, d]
    if "shuffle_swap_ij" in mutations:
        return grid.permute(0, 1, 3, 4, 2, 5).reshape(n, g * g, r * r * d)
    return grid.permute(0, 1, 3, 2, 4, 5).reshape(n, g * g, r * r * d)   # [n, p, q, i, j, d]


def image_features(W, cfg, pixel_values, pixel_attention_mask, mutations=frozenset()):
    """
    pixel_values [B, N, 3, H, W], pixel_attention_mask [B, N, H, W] or None
    -> dict(features [n_real, S/r², D_t], vision_hidden [n_real, S, D_v], pos_ids [n_real, S], real [B·N] bool).
    """
    b, n = pixel_values.shape[:2]
    flat = pixel_values.reshape(b * n, *pixel_values.shape[2:])
    real = (flat != 0).reshape(b * n, -1).any(dim=1)
    if not bool(real.any()):
        real[0] = True                                   # SmolVLM keeps one image when all are padding
    pixels = flat[real]
    if pixel_attention_mask is None:
        pmask = torch.ones(pixels.shape[0], pixels.shape[2], pixels.shape[3], dtype=torch.bool)
    else:
        pmask = pixel_attention_mask.reshape(b * n, *pixel_attention_mask.shape[2:])[real]
    patch_mask = patch_mask_from_pixels(pmask, cfg["vision_config"]["patch_size"])
    hidden, pos_ids = vision_tower(W, cfg, pixels, patch_mask, mutations)
    shuffled = pixel_shuffle(hidden, cfg["scale_factor"], mutations)
    feats = linear(shuffled, W["model.connector.modality_projection.proj.weight"])
    return {"features": feats, "vision_hidden": hidden, "pos_ids": pos_ids, "real": real}


def merge_image_features(embeds, input_ids, image_token_id, feats, merge_limit=None):
    """
    SmolVLM inputs_merger: per sample, the k-th <image> token takes row k % seq of block (offset + k // seq), where
    offset counts the blocks of earlier samples. Positions >= merge_limit (generated tokens) are left alone.
    """
    out = embeds.clone()
    seq = feats.shape[1]
    block_offset = 0
    for bi in range(input_ids.shape[0]):
        positions = [t for t in range(input_ids.shape[1])
                     if int(input_ids[bi, t]) == image_token_id and (merge_limit is None or t < merge_limit)]
        if len(positions) % seq != 0:
            raise ValueError(f"sample {bi}: {len(positions)} <image> tokens is not a multiple of image_seq_len {seq}")
        for k, t in enumerate(positions):
            out[bi, t] = feats[block_offset + k // seq, k % seq]
        block_offset += len(positions) // seq
    if block_offset != feats.shape[0]:
        raise ValueError(f"{block_offset} image blocks in the prompt but {feats.shape[0]} real images")
    return out


# ----------------------------------------------------------------------------------------------------------------------
# Llama decoder


def rope_cos_sin(positions, head_dim, theta, dtype):
    """positions [B, L] -> cos, sin [B, L, hd] with emb = concat(freqs, freqs) (non-interleaved)."""
    inv_freq = 1.0 / (theta ** (torch.arange(0, head_dim, 2, dtype=torch.float64) / head_dim))
    freqs = positions.to(torch.float64)[..., None] * inv_freq           # [B, L, hd/2]
    emb = torch.cat([freqs, freqs], dim=-1)
    return emb.cos().to(dtype), emb.sin().to(dtype)


def apply_rope(x, cos, sin, mutations):
    """x [B, H, L, hd]; rotate_half pairs (i, i + hd/2)."""
    cos, sin = cos[:, None], sin[:, None]
    if "rope_interleaved" in mutations:
        x1, x2 = x[..., 0::2], x[..., 1::2]
        c, s = cos[..., 0::2], sin[..., 0::2]
        return torch.stack([x1 * c - x2 * s, x1 * s + x2 * c], dim=-1).flatten(-2)
    half = x.shape[-1] // 2
    rotated = torch.cat([-x[..., half:], x[..., :half]], dim=-1)
    return x * cos + rotated * sin


def text_attention(W, l, x, tc, cos, sin, attention_mask, mutations):
    bsz, L, _ = x.shape
    nh, nkv, hd = tc["num_attention_heads"], tc["num_key_value_heads"], tc["head_dim"]
    q = linear(x, W[l + "self_attn.q_proj.weight"]).reshape(bsz, L, nh, hd).transpose(1, 2)
    k = linear(x, W[l + "self_attn.k_proj.weight"]).reshape(bsz, L, nkv, hd).transpose(1, 2)
    v = linear(x, W[l + "self_attn.v_proj.weight"]).reshape(bsz, L, nkv, hd).transpose(1, 2)
    q, k = apply_rope(q, cos, sin, mutations), apply_rope(k, cos, sin, mutations)
    group = nh // nkv
    kv_of = [(h % nkv) if "gqa_modulo" in mutations else (h // group) for h in range(nh)]
    k, v = k[:, kv_of], v[:, kv_of]                                       # [B, H, L, hd]
    scores = torch.matmul(q, k.transpose(-1, -2)) * (hd ** -0.5)         # [B, H, L, L]
    allowed = attention_mask[:, None, None, :].bool().expand(bsz, 1, L, L).clone()
    if "no_causal" not in mutations:
        allowed &= torch.ones(L, L, dtype=torch.bool).tril()
    additive = torch.zeros(bsz, 1, L, L, dtype=x.dtype)
    additive[~allowed] = torch.finfo(x.dtype).min
    out = torch.matmul(softmax_rows(scores + additive), v)
    return linear(out.transpose(1, 2).reshape(bsz, L, nh * hd), W[l + "self_attn.o_proj.weight"])


def text_model(W, cfg, embeds, attention_mask, mutations=frozenset()):
    """embeds [B, L, D_t], attention_mask [B, L] -> (final normed hidden [B, L, D_t], logits [B, L, V])."""
    tc = cfg["text_config"]
    eps = 1e-6 if "rms_eps_1e-6" in mutations else tc["rms_norm_eps"]
    theta = 10000.0 if "rope_theta_1e4" in mutations else tc["rope_theta"]
    bsz, L, _ = embeds.shape
    positions = torch.arange(L, dtype=torch.int64).repeat(bsz, 1)       # LlamaModel: position_ids = cache_position
    cos, sin = rope_cos_sin(positions, tc["head_dim"], theta, embeds.dtype)
    h = embeds
    for i in range(tc["num_hidden_layers"]):
        l = f"model.text_model.layers.{i}."
        h = h + text_attention(W, l, rms_norm(h, W[l + "input_layernorm.weight"], eps), tc, cos, sin, attention_mask, mutations)
        x = rms_norm(h, W[l + "post_attention_layernorm.weight"], eps)
        h = h + linear(silu(linear(x, W[l + "mlp.gate_proj.weight"])) * linear(x, W[l + "mlp.up_proj.weight"]),
                       W[l + "mlp.down_proj.weight"])
    h = rms_norm(h, W["model.text_model.norm.weight"], eps)
    return h, linear(h, W["lm_head.weight"])


# ----------------------------------------------------------------------------------------------------------------------
# Whole model


def forward(W, cfg, input_ids, attention_mask, pixel_values=None, pixel_attention_mask=None,
            mutations=frozenset(), merge_limit=None):
    """
    input_ids [B, L] int64, attention_mask [B, L], pixel_values [B, N, 3, H, W] (compute dtype) or None,
    pixel_attention_mask [B, N, H, W] or None. Returns a dict of logits, final_hidden, inputs_embeds and, when
    images are given, the image-side intermediates.
    """
    embeds = W["model.text_model.embed_tokens.weight"][input_ids]       # [B, L, D_t]
    out = {}
    if pixel_values is not None:
        img = image_features(W, cfg, pixel_values, pixel_attention_mask, mutations)
        embeds = merge_image_features(embeds, input_ids, cfg["image_token_id"], img["features"], merge_limit)
        out.update(img)
    out["inputs_embeds"] = embeds
    out["final_hidden"], out["logits"] = text_model(W, cfg, embeds, attention_mask, mutations)
    return out


def greedy(W, cfg, input_ids, pixel_values, pixel_attention_mask, steps):
    """Greedy decoding without a cache (full recompute each step); returns (new ids, top1 - top2 logit margins)."""
    ids = input_ids.clone()
    prompt_len = ids.shape[1]
    new_ids, margins = [], []
    for _ in range(steps):
        logits = forward(W, cfg, ids, torch.ones_like(ids), pixel_values, pixel_attention_mask,
                         merge_limit=prompt_len)["logits"][0, -1]
        top = torch.topk(logits, 2)
        new_ids.append(int(top.indices[0]))
        margins.append(float(top.values[0] - top.values[1]))
        ids = torch.cat([ids, top.indices[:1].reshape(1, 1)], dim=1)
    return new_ids, margins


if __name__ == "__main__":
    import sys
    sys.dont_write_bytecode = True     # keep tests/reference/model free of __pycache__
    import make_model_fixtures
    make_model_fixtures.main()
