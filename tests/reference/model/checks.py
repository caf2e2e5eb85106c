"""Self-checks of the reference's building blocks against torch's fused ops and against slow per-element forms.

Every check runs in float64 and must agree to ~1e-12; a failure aborts fixture generation.
"""

import math
import zlib

import torch
import torch.nn.functional as F

import safetensors_io as st
import smolvlm_reference as ref


def _g(name):
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def _close(a, b, what, tol=1e-11):
    err = float((a - b).abs().max())
    if not err <= tol:
        raise AssertionError(f"self-check {what}: max abs diff {err}")


def check_blocks():
    g = _g("blocks")
    x = torch.randn(3, 5, 12, generator=g, dtype=torch.float64)
    w, b = torch.randn(12, generator=g, dtype=torch.float64), torch.randn(12, generator=g, dtype=torch.float64)
    _close(ref.layer_norm(x, w, b, 1e-6), F.layer_norm(x, (12,), w, b, 1e-6), "layer_norm")
    want = torch.stack([row / math.sqrt(float((row * row).mean()) + 1e-5) for row in x.reshape(-1, 12)]).reshape(x.shape) * w
    _close(ref.rms_norm(x, w, 1e-5), want, "rms_norm")
    _close(ref.gelu_tanh(x), F.gelu(x, approximate="tanh"), "gelu_tanh")
    _close(ref.softmax_rows(x), torch.softmax(x, dim=-1), "softmax")
    _close(ref.silu(x), F.silu(x), "silu")


def check_patchify():
    g = _g("patchify")
    px = torch.randn(2, 3, 16, 24, generator=g, dtype=torch.float64)
    w = torch.randn(7, 3, 8, 8, generator=g, dtype=torch.float64)
    b = torch.randn(7, generator=g, dtype=torch.float64)
    want = F.conv2d(px, w, b, stride=8).flatten(2).transpose(1, 2)            # [2, 6, 7]
    _close(ref.linear(ref.patchify(px, 8), w.reshape(7, -1), b), want, "patch conv")


def check_pixel_shuffle():
    for side, r, d in [(4, 2, 1), (6, 3, 2), (8, 4, 3), (4, 2, 5)]:
        x = torch.arange(2 * side * side * d, dtype=torch.float64).reshape(2, side * side, d)
        got = ref.pixel_shuffle(x, r)
        # the view/permute/reshape sequence of SmolVLMConnector.pixel_shuffle, re-expressed
        n = x.shape[0]
        y = x.reshape(n, side, side // r, d * r).permute(0, 2, 1, 3)
        y = y.reshape(n, side // r, side // r, d * r * r).permute(0, 2, 1, 3).reshape(n, side * side // (r * r), d * r * r)
        _close(got, y, f"pixel_shuffle view sequence {side},{r},{d}", 0)
        w = side
        for p in range(side // r):
            for q in range(side // r):
                for i in range(r):
                    for j in range(r):
                        for dd in range(d):
                            assert got[0, p * (w // r) + q, (i * r + j) * d + dd] == x[0, (p * r + i) * w + (q * r + j), dd]


def check_rope_and_attention():
    g = _g("rope")
    x = torch.randn(2, 3, 5, 8, generator=g, dtype=torch.float64)              # [B, H, L, hd]
    pos = torch.arange(5).repeat(2, 1)
    cos, sin = ref.rope_cos_sin(pos, 8, 100000.0, torch.float64)
    got = ref.apply_rope(x, cos, sin, frozenset())
    inv = 1.0 / (100000.0 ** (torch.arange(0, 8, 2, dtype=torch.float64) / 8))
    z = torch.complex(x[..., :4], x[..., 4:]) * torch.polar(torch.ones(5, 4, dtype=torch.float64), torch.arange(5.0, dtype=torch.float64)[:, None] * inv)
    _close(got, torch.cat([z.real, z.imag], dim=-1), "rope vs complex rotation")

    # GQA causal attention with a padding mask vs a per-(b, h, query) loop
    tc = {"num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 4}
    W = {f"l.self_attn.{n}_proj.weight": torch.randn(s, 8, generator=g, dtype=torch.float64)
         for n, s in (("q", 16), ("k", 8), ("v", 8))}
    W["l.self_attn.o_proj.weight"] = torch.randn(8, 16, generator=g, dtype=torch.float64)
    h = torch.randn(2, 5, 8, generator=g, dtype=torch.float64)
    mask = torch.tensor([[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]])
    cos, sin = ref.rope_cos_sin(pos, 4, 100000.0, torch.float64)
    got = ref.text_attention(W, "l.", h, tc, cos, sin, mask, frozenset())
    q = ref.apply_rope(ref.linear(h, W["l.self_attn.q_proj.weight"]).reshape(2, 5, 4, 4).transpose(1, 2), cos, sin, frozenset())
    k = ref.apply_rope(ref.linear(h, W["l.self_attn.k_proj.weight"]).reshape(2, 5, 2, 4).transpose(1, 2), cos, sin, frozenset())
    v = ref.linear(h, W["l.self_attn.v_proj.weight"]).reshape(2, 5, 2, 4).transpose(1, 2)
    heads = torch.zeros(2, 5, 16, dtype=torch.float64)
    for bi in range(2):
        for hh in range(4):
            for t in range(5):
                keys = [j for j in range(t + 1) if mask[bi, j] == 1]
                s = torch.stack([q[bi, hh, t] @ k[bi, hh // 2, j] / 2.0 for j in keys])
                p = torch.softmax(s, dim=0)
                heads[bi, t, hh * 4:(hh + 1) * 4] = sum(p[m] * v[bi, hh // 2, j] for m, j in enumerate(keys))
    _close(got, ref.linear(heads, W["l.self_attn.o_proj.weight"]), "text attention vs loop")


def check_positions_and_merge(cfg):
    k = cfg["vision_config"]["image_size"] // cfg["vision_config"]["patch_size"]
    full = torch.ones(1, k, k, dtype=torch.bool)
    assert torch.equal(ref.vision_position_ids(full, k)[0], torch.arange(k * k)), "full tile must give identity ids"
    # 32×32 grid (256M): also the identity with torch's float32 arange
    assert torch.equal(ref.vision_position_ids(torch.ones(1, 32, 32, dtype=torch.bool), 32)[0], torch.arange(1024))
    # merger vs the Idefics3 boolean-mask assignment (row-major over batch, then sequence)
    g = _g("merge")
    ids = torch.tensor([[5, 9, 9, 7, 9, 9], [9, 9, 3, 3, 3, 3]])
    feats = torch.randn(3, 2, 4, generator=g, dtype=torch.float64)
    emb = torch.randn(2, 6, 4, generator=g, dtype=torch.float64)
    want = emb.clone()
    want[ids == 9] = feats.reshape(-1, 4)
    _close(ref.merge_image_features(emb, ids, 9, feats), want, "merger vs idefics3 assignment", 0)


def check_vision_layer_vs_torch_nn(cfg, weights):
    """Layer 0 of the tiny vision tower (pre-LN, GELU-tanh, key mask) vs torch.nn.TransformerEncoderLayer."""
    vc = cfg["vision_config"]
    d = vc["hidden_size"]
    W = {k: v.double() for k, v in weights.items()}
    l = "model.vision_model.encoder.layers.0."
    layer = torch.nn.TransformerEncoderLayer(d, vc["num_attention_heads"], vc["intermediate_size"], dropout=0.0,
                                             activation=lambda t: F.gelu(t, approximate="tanh"),
                                             layer_norm_eps=vc["layer_norm_eps"], batch_first=True, norm_first=True)
    layer = layer.double().eval()
    with torch.no_grad():
        layer.self_attn.in_proj_weight.copy_(torch.cat([W[l + f"self_attn.{n}_proj.weight"] for n in "qkv"]))
        layer.self_attn.in_proj_bias.copy_(torch.cat([W[l + f"self_attn.{n}_proj.bias"] for n in "qkv"]))
        layer.self_attn.out_proj.weight.copy_(W[l + "self_attn.out_proj.weight"])
        layer.self_attn.out_proj.bias.copy_(W[l + "self_attn.out_proj.bias"])
        for mine, theirs in (("layer_norm1", layer.norm1), ("layer_norm2", layer.norm2),
                             ("mlp.fc1", layer.linear1), ("mlp.fc2", layer.linear2)):
            theirs.weight.copy_(W[l + mine + ".weight"])
            theirs.bias.copy_(W[l + mine + ".bias"])
    h = torch.randn(2, 16, d, generator=_g("vision layer"), dtype=torch.float64)
    key_mask = torch.ones(2, 16, dtype=torch.bool)
    key_mask[1, 5:] = False
    for km in (None, key_mask):
        x = ref.layer_norm(h, W[l + "layer_norm1.weight"], W[l + "layer_norm1.bias"], vc["layer_norm_eps"])
        y = h + ref.vision_attention(x, *(W[f"{l}self_attn.{nm}_proj.{wb}"] for nm in ("q", "k", "v", "out") for wb in ("weight", "bias")),
                                     heads=vc["num_attention_heads"], key_mask=km, mutations=frozenset())
        x = ref.layer_norm(y, W[l + "layer_norm2.weight"], W[l + "layer_norm2.bias"], vc["layer_norm_eps"])
        y = y + ref.linear(ref.gelu_tanh(ref.linear(x, W[l + "mlp.fc1.weight"], W[l + "mlp.fc1.bias"])), W[l + "mlp.fc2.weight"], W[l + "mlp.fc2.bias"])
        with torch.no_grad():
            want = layer(h, src_key_padding_mask=None if km is None else ~km)
        _close(y, want, "vision layer vs nn.TransformerEncoderLayer" + ("" if km is None else " (key mask)"))


def check_bf16():
    g = _g("bf16")
    x = (torch.randn(10000, generator=g, dtype=torch.float64) * 3).to(torch.float32)
    x = torch.cat([x, torch.tensor([1.0 + 2 ** -8, 1.0 + 3 * 2 ** -8, -0.0, 0.0], dtype=torch.float32)])   # ties
    bits, _ = st.f32_to_bf16_bits(x)
    _close(st.bf16_bits_to_f32(bits).double(), x.to(torch.bfloat16).to(torch.float64), "bf16 rounding", 0)


def run_all(cfg, weights):
    check_blocks()
    check_patchify()
    check_pixel_shuffle()
    check_rope_and_attention()
    check_positions_and_merge(cfg)
    check_vision_layer_vs_torch_nn(cfg, weights)
    check_bf16()
