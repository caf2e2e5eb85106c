#!/usr/bin/python3
"""Writes tests/fixtures/model/ (tiny checkpoint dirs + parity cases) with the plain-torch reference.

    /usr/bin/python3 tests/reference/model/smolvlm_reference.py     (or this file directly)

Deterministic: every weight tensor is drawn from its own generator seeded with crc32(name); every case input from
crc32(case name). Re-running gives byte-identical files. See README.md next to this file.
"""

import os
import sys
import zlib

import torch

import safetensors_io as st
import smolvlm_reference as ref
from tiny_bpe import TinyBpe

GENERATOR = "tests/reference/model/smolvlm_reference.py"
FORMAT = 1
HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.abspath(os.path.join(HERE, "..", "..", ".."))
OUT = os.path.join(ROOT, "tests", "fixtures", "model")
TOKENIZER_DIR = os.path.join(ROOT, "tests", "fixtures", "tokenizer")

# spec §5.1 (SmolVLM-256M chat_template.json), verbatim apart from JSON escaping
CHAT_TEMPLATE = ("<|im_start|>{% for message in messages %}{{message['role'] | capitalize}}"
                 "{% if message['content'][0]['type'] == 'image' %}{{':'}}{% else %}{{': '}}{% endif %}"
                 "{% for line in message['content'] %}{% if line['type'] == 'text' %}{{line['text']}}"
                 "{% elif line['type'] == 'image' %}{{ '<image>' }}{% endif %}{% endfor %}<end_of_utterance>\n"
                 "{% endfor %}{% if add_generation_prompt %}{{ 'Assistant:' }}{% endif %}")

TILE = 32       # vision image_size = max_image_size
SEQ = 4         # image_seq_len = (32/8)² / 2²


def make_config(tok):
    return {
        "_generator": GENERATOR,
        "architectures": ["Idefics3ForConditionalGeneration"],
        "image_token_id": tok.token_id("<image>"),
        "model_type": "idefics3",
        "pad_token_id": 128002,
        "scale_factor": 2,
        "text_config": {
            "architectures": ["VLlama3ForCausalLM"],
            "attention_bias": False,
            "bos_token_id": tok.token_id("<|im_start|>"),
            "eos_token_id": tok.token_id("<|im_end|>"),
            "head_dim": 16,
            "hidden_act": "silu",
            "hidden_size": 64,
            "intermediate_size": 128,
            "max_position_embeddings": 2048,
            "mlp_bias": False,
            "model_type": "llama",
            "num_attention_heads": 4,
            "num_hidden_layers": 2,
            "num_key_value_heads": 2,
            "pad_token_id": tok.token_id("<|im_end|>"),
            "rms_norm_eps": 1e-05,
            "rope_interleaved": False,
            "rope_theta": 100000.0,
            "tie_word_embeddings": False,
            "torch_dtype": "float32",
            "vocab_size": 4128,
        },
        "tie_word_embeddings": False,
        "torch_dtype": "float32",
        "transformers_version": "4.46.0",
        "use_cache": True,
        "vision_config": {
            "hidden_act": "gelu_pytorch_tanh",
            "hidden_size": 32,
            "image_size": TILE,
            "intermediate_size": 64,
            "layer_norm_eps": 1e-06,
            "max_image_size": {"longest_edge": TILE},
            "model_type": "idefics3",
            "num_attention_heads": 2,
            "num_channels": 3,
            "num_hidden_layers": 2,
            "patch_size": 8,
            "size": {"longest_edge": 2 * TILE},
            "use_base_siglip": False,
        },
        "vocab_size": 4128,
    }


# ----------------------------------------------------------------------------------------------------------------------
# Weights


def weight_shapes(cfg):
    """(name, shape, kind) in spec §3.1 order; kind picks the init: matrix, norm (1 + N(0, .2²)) or bias (N(0, .2²))."""
    vc, tc = cfg["vision_config"], cfg["text_config"]
    dv, iv, p = vc["hidden_size"], vc["intermediate_size"], vc["patch_size"]
    s = (vc["image_size"] // p) ** 2
    out = [("model.vision_model.embeddings.patch_embedding.weight", [dv, 3, p, p], "matrix"),
           ("model.vision_model.embeddings.patch_embedding.bias", [dv], "bias"),
           ("model.vision_model.embeddings.position_embedding.weight", [s, dv], "position")]
    for i in range(vc["num_hidden_layers"]):
        l = f"model.vision_model.encoder.layers.{i}."
        out += [(l + "layer_norm1.weight", [dv], "norm"), (l + "layer_norm1.bias", [dv], "bias")]
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            out += [(l + f"self_attn.{proj}.weight", [dv, dv], "matrix"), (l + f"self_attn.{proj}.bias", [dv], "bias")]
        out += [(l + "layer_norm2.weight", [dv], "norm"), (l + "layer_norm2.bias", [dv], "bias"),
                (l + "mlp.fc1.weight", [iv, dv], "matrix"), (l + "mlp.fc1.bias", [iv], "bias"),
                (l + "mlp.fc2.weight", [dv, iv], "matrix"), (l + "mlp.fc2.bias", [dv], "bias")]
    out += [("model.vision_model.post_layernorm.weight", [dv], "norm"),
            ("model.vision_model.post_layernorm.bias", [dv], "bias")]
    dt, it, hd = tc["hidden_size"], tc["intermediate_size"], tc["head_dim"]
    q, kv = tc["num_attention_heads"] * hd, tc["num_key_value_heads"] * hd
    out.append(("model.connector.modality_projection.proj.weight", [dt, dv * cfg["scale_factor"] ** 2], "matrix"))
    out.append(("model.text_model.embed_tokens.weight", [tc["vocab_size"], dt], "matrix"))
    for i in range(tc["num_hidden_layers"]):
        l = f"model.text_model.layers.{i}."
        out += [(l + "input_layernorm.weight", [dt], "norm"),
                (l + "self_attn.q_proj.weight", [q, dt], "matrix"), (l + "self_attn.k_proj.weight", [kv, dt], "matrix"),
                (l + "self_attn.v_proj.weight", [kv, dt], "matrix"), (l + "self_attn.o_proj.weight", [dt, q], "matrix"),
                (l + "post_attention_layernorm.weight", [dt], "norm"),
                (l + "mlp.gate_proj.weight", [it, dt], "matrix"), (l + "mlp.up_proj.weight", [it, dt], "matrix"),
                (l + "mlp.down_proj.weight", [dt, it], "matrix")]
    out += [("model.text_model.norm.weight", [dt], "norm"), ("lm_head.weight", [tc["vocab_size"], dt], "matrix")]
    return out


STD = {"matrix": 0.02, "bias": 0.2, "norm": 0.2, "position": 0.2}


def make_weights(cfg):
    """float32 weights; drawn in float64 from N(0, std²) with a per-name generator, then rounded to float32."""
    weights = {}
    for name, shape, kind in weight_shapes(cfg):
        g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
        x = torch.randn(shape, generator=g, dtype=torch.float64) * STD[kind]
        if name.endswith("mlp.fc1.weight"):
            x = x * 10.0          # vision fc1: std 0.2, so GELU inputs reach |x| ~ 1-3 where tanh and erf GELU differ
        if kind == "norm":
            x = x + 1.0
        weights[name] = x.to(torch.float32)
    return weights


# ----------------------------------------------------------------------------------------------------------------------
# Prompts and images


def expand_image(rows, cols):
    """spec §5.2 (processing_smolvlm `_prompt_split_image` / `_prompt_single_image`) with image_seq_len = SEQ."""
    fake, img = "<fake_token_around_image>", "<image>" * SEQ
    if rows == 0 and cols == 0:
        return fake + "<global-img>" + img + fake
    text = ""
    for r in range(1, rows + 1):
        for c in range(1, cols + 1):
            text += fake + f"<row_{r}_col_{c}>" + img
        text += "\n"
    return text + "\n" + fake + "<global-img>" + img + fake


def render_user_turn(content):
    """The chat template of spec §5.1 for one user message + generation prompt; content: list of str | ('image', rows, cols)."""
    sep = ":" if not isinstance(content[0], str) else ": "
    body = "".join(part if isinstance(part, str) else "<image>" for part in content)
    prompt = "<|im_start|>User" + sep + body + "<end_of_utterance>\nAssistant:"
    images = [part for part in content if not isinstance(part, str)]
    pieces = prompt.split("<image>")
    expanded = pieces[0]
    for (_, rows, cols), rest in zip(images, pieces[1:]):
        expanded += expand_image(rows, cols) + rest
    return prompt, expanded, [(rows, cols) for _, rows, cols in images]


def random_tiles(name, count):
    """count tiles [count, 3, 32, 32] of u/127.5 − 1 (u random uint8), computed in float32 as the processor does."""
    g = torch.Generator().manual_seed(zlib.crc32(name.encode()))
    u = torch.randint(0, 256, (count, 3, TILE, TILE), generator=g, dtype=torch.int64)
    return u.to(torch.float32) / torch.tensor(127.5, dtype=torch.float32) - torch.tensor(1.0, dtype=torch.float32)


# ----------------------------------------------------------------------------------------------------------------------


def main():
    torch.set_num_threads(1)
    tok = TinyBpe(os.path.join(TOKENIZER_DIR, "smolvlm-tiny", "tokenizer.json"))
    checked = tok.self_check(os.path.join(TOKENIZER_DIR, "corpus.jsonl"), os.path.join(TOKENIZER_DIR, "expected-smolvlm-tiny.jsonl"))
    print(f"TinyBpe agrees with the HF oracle on {checked} ASCII corpus lines", file=sys.stderr)
    cfg = make_config(tok)
    weights = make_weights(cfg)
    import checks
    checks.run_all(cfg, weights)
    import build_outputs
    build_outputs.write_all(cfg, weights, tok)


if __name__ == "__main__":
    main()
