#!/usr/bin/env python3
"""Generates the small fixtures under tests/fixtures/checkpoints/ (stdlib only; run from the repo root:
python3 tests/reference/checkpoints/make_fixtures.py).

It is an independent re-implementation of the reference writers, used as a second opinion for the C# code:
- safetensors files laid out as huggingface/safetensors `tensor.rs::prepare` does: tensors ordered by dtype
  alignment rank descending, then by name (byte order); compact JSON header (`__metadata__` first, then
  {"dtype","shape","data_offsets"}); padded with spaces to a multiple of 8;
- shards split as huggingface_hub `split_state_dict_into_shards_factory` does (insertion order, greedy) and the
  index written as transformers save_pretrained does: json.dumps(index, indent=2, sort_keys=True) + "\n";
- config.json files written with json.dumps(indent=2, sort_keys=True) + "\n" (transformers to_json_string);
  the real Python float repr is the oracle for VlmTune's ToJson number formatting.
"""
import json
import os
import struct

GEN = "tests/reference/checkpoints/make_fixtures.py"
OUT = os.path.join("tests", "fixtures", "checkpoints")

# huggingface/safetensors Dtype enum order (ascending alignment) and element widths in bits.
DTYPES = ["BOOL", "F4", "F6_E2M3", "F6_E3M2", "U8", "I8", "F8_E5M2", "F8_E4M3", "F8_E8M0", "I16", "U16",
          "F16", "BF16", "I32", "U32", "F32", "C64", "F64", "I64", "U64"]
BITS = {"BOOL": 8, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8,
        "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
        "C64": 64, "F64": 64, "I64": 64, "U64": 64}


def nbytes(dtype, shape):
    n = BITS[dtype]
    for d in shape:
        n *= d
    assert n % 8 == 0
    return n // 8


def safetensors_bytes(tensors, metadata):
    """tensors: list of (name, dtype, shape, data bytes)."""
    order = sorted(tensors, key=lambda t: (-DTYPES.index(t[1]), t[0].encode("utf-8")))
    header = {}
    if metadata is not None:
        header["__metadata__"] = dict(sorted(metadata.items()))
    offset = 0
    for name, dtype, shape, data in order:
        assert len(data) == nbytes(dtype, shape), name
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        offset += len(data)
    text = json.dumps(header, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * ((8 - len(text) % 8) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(t[3] for t in order)


def f32(*xs):
    return struct.pack("<%df" % len(xs), *xs)


def bf16(*xs):
    return b"".join(struct.pack("<f", x)[2:] for x in xs)  # exact for these values (low half is zero)


def mixed_tensors():
    return [
        ("z.weight", "F32", [2, 3], f32(0.0, 1.0, 2.0, 3.0, 4.0, 5.0)),
        ("a.bias", "F32", [3], f32(-1.5, 0.25, 8.0)),
        ("emb", "BF16", [2, 2], bf16(1.0, -2.0, 0.5, 3.0)),
        ("half", "F16", [2], struct.pack("<2e", 1.0, -0.5)),
        ("q.weight", "U8", [4, 1], bytes([0x12, 0x34, 0x56, 0x78])),
        ("ids", "I64", [3], struct.pack("<3q", 1, -2, 1 << 40)),
        ("count", "I32", [], struct.pack("<i", 7)),
        ("mask", "BOOL", [3], bytes([1, 0, 1])),
        ("empty", "F32", [0, 4], b""),
        ("d", "F64", [1], struct.pack("<d", 3.141592653589793)),
        ("unicode.\u00e9t\u00e9", "I8", [2], struct.pack("<2b", -1, 5)),
    ]


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


def sharded(tensors, max_shard_size, metadata):
    shards, current, size = [], [], 0
    for t in tensors:
        n = len(t[3])
        if n > max_shard_size:
            shards.append([t])
            continue
        if size + n > max_shard_size:
            shards.append(current)
            current, size = [], 0
        current.append(t)
        size += n
    if current:
        shards.append(current)
    files, weight_map = {}, {}
    for i, shard in enumerate(shards):
        name = "model-%05d-of-%05d.safetensors" % (i + 1, len(shards))
        files[name] = safetensors_bytes(shard, metadata)
        for t in shard:
            weight_map[t[0]] = name
    index = {"metadata": {"total_size": sum(len(t[3]) for t in tensors)}, "weight_map": weight_map}
    files["model.safetensors.index.json"] = (json.dumps(index, indent=2, sort_keys=True) + "\n").encode("utf-8")
    return files


def dumps(obj):
    return (json.dumps(obj, indent=2, sort_keys=True) + "\n").encode("utf-8")


def smolvlm_256m_config():
    # Key set and values as spec smolvlm.md §1 (256M column); vision/text blocks as a real HF config would hold them.
    return {
        "_generator": GEN,
        "architectures": ["Idefics3ForConditionalGeneration"],
        "model_type": "idefics3",
        "image_token_id": 49190,
        "scale_factor": 4,
        "pad_token_id": 128002,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "transformers_version": "4.46.0",
        "use_cache": True,
        "vocab_size": 49280,
        "vision_config": {
            "hidden_size": 768, "image_size": 512, "intermediate_size": 3072, "model_type": "idefics3",
            "num_attention_heads": 12, "num_hidden_layers": 12, "patch_size": 16, "max_image_size": {"longest_edge": 512},
            "size": {"longest_edge": 2048}, "use_base_siglip": False,
        },
        "text_config": {
            "_flash_attn_2_enabled": True, "architectures": ["VLlama3ForCausalLM"], "head_dim": 64,
            "hidden_size": 576, "intermediate_size": 1536, "max_position_embeddings": 8192, "model_type": "llama",
            "num_attention_heads": 9, "num_hidden_layers": 30, "num_key_value_heads": 3, "rms_norm_eps": 1e-05,
            "rope_theta": 100000.0, "vocab_size": 49280, "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2,
            "rope_interleaved": False, "tie_word_embeddings": False, "torch_dtype": "bfloat16",
        },
    }


def smolvlm2_minimal_config():
    # SmolVLM2-style: vision_config lists only 4 keys (rest = class defaults); text_config lacks rms_norm_eps,
    # head_dim and num_key_value_heads (Llama defaults: 1e-6, hidden/heads, = heads).
    return {
        "_generator": GEN,
        "architectures": ["SmolVLMForConditionalGeneration"],
        "model_type": "smolvlm",
        "image_token_id": 49190,
        "scale_factor": 4,
        "vision_config": {"hidden_size": 768, "image_size": 512, "num_attention_heads": 12, "patch_size": 16,
                          "model_type": "smolvlm_vision"},
        "text_config": {"hidden_size": 960, "intermediate_size": 2560, "num_attention_heads": 15,
                        "num_hidden_layers": 32, "vocab_size": 49280, "model_type": "llama"},
    }


def no_text_config():
    # No text_config: the composite config's default LlamaConfig(rms_norm_eps=1e-5, pad_token_id=128002) applies.
    # The vision block is given because the class defaults (224 px, patch 32: 7x7 patches) cannot be pixel-shuffled by 2.
    return {"_generator": GEN, "model_type": "idefics3", "vision_config": {"image_size": 512, "patch_size": 16}}


def preset_256m_expected():
    # What SmolVlmConfig.SmolVlm256M().ToJson() must print, byte for byte (Python float repr: 1e-05, 100000.0).
    vision = {"model_type": "idefics3_vision", "hidden_size": 768, "intermediate_size": 3072, "num_hidden_layers": 12,
              "num_attention_heads": 12, "num_channels": 3, "image_size": 512, "patch_size": 16,
              "hidden_act": "gelu_pytorch_tanh", "layer_norm_eps": 1e-06, "attention_dropout": 0.0,
              "initializer_range": 0.02}
    text = {"model_type": "llama", "vocab_size": 49280, "hidden_size": 576, "intermediate_size": 1536,
            "num_hidden_layers": 30, "num_attention_heads": 9, "num_key_value_heads": 3, "head_dim": 64,
            "hidden_act": "silu", "max_position_embeddings": 8192, "rms_norm_eps": 1e-05, "rope_theta": 100000.0,
            "rope_scaling": None, "attention_bias": False, "mlp_bias": False, "tie_word_embeddings": False,
            "bos_token_id": 1, "eos_token_id": 2, "pad_token_id": 2, "initializer_range": 0.02}
    return {"model_type": "idefics3", "architectures": ["Idefics3ForConditionalGeneration"], "image_token_id": 49190,
            "scale_factor": 4, "tie_word_embeddings": False, "pad_token_id": 128002, "use_cache": True,
            "torch_dtype": "bfloat16", "vision_config": vision, "text_config": text}


def smolvlm_256m_manifest():
    """name<TAB>shape for every tensor of SmolVLM-256M (spec smolvlm.md §3.1)."""
    rows = [("model.vision_model.embeddings.patch_embedding.weight", [768, 3, 16, 16]),
            ("model.vision_model.embeddings.patch_embedding.bias", [768]),
            ("model.vision_model.embeddings.position_embedding.weight", [1024, 768])]
    for i in range(12):
        p = "model.vision_model.encoder.layers.%d." % i
        rows += [(p + "layer_norm1.weight", [768]), (p + "layer_norm1.bias", [768])]
        for proj in ("q_proj", "k_proj", "v_proj", "out_proj"):
            rows += [(p + "self_attn.%s.weight" % proj, [768, 768]), (p + "self_attn.%s.bias" % proj, [768])]
        rows += [(p + "layer_norm2.weight", [768]), (p + "layer_norm2.bias", [768]),
                 (p + "mlp.fc1.weight", [3072, 768]), (p + "mlp.fc1.bias", [3072]),
                 (p + "mlp.fc2.weight", [768, 3072]), (p + "mlp.fc2.bias", [768])]
    rows += [("model.vision_model.post_layernorm.weight", [768]), ("model.vision_model.post_layernorm.bias", [768]),
             ("model.connector.modality_projection.proj.weight", [576, 12288]),
             ("model.text_model.embed_tokens.weight", [49280, 576])]
    for i in range(30):
        p = "model.text_model.layers.%d." % i
        rows += [(p + "input_layernorm.weight", [576]), (p + "self_attn.q_proj.weight", [576, 576]),
                 (p + "self_attn.k_proj.weight", [192, 576]), (p + "self_attn.v_proj.weight", [192, 576]),
                 (p + "self_attn.o_proj.weight", [576, 576]), (p + "post_attention_layernorm.weight", [576]),
                 (p + "mlp.gate_proj.weight", [1536, 576]), (p + "mlp.up_proj.weight", [1536, 576]),
                 (p + "mlp.down_proj.weight", [576, 1536])]
    rows += [("model.text_model.norm.weight", [576]), ("lm_head.weight", [49280, 576])]
    total = 0
    for _, shape in rows:
        n = 1
        for d in shape:
            n *= d
        total += n
    assert len(rows) == 471 and total == 256_484_928, (len(rows), total)
    lines = ["# generator: %s (spec smolvlm.md 3.1; %d tensors, %d parameters)" % (GEN, len(rows), total)]
    lines += ["%s\t%s" % (name, ",".join(map(str, shape))) for name, shape in rows]
    return ("\n".join(lines) + "\n").encode("utf-8")


def main():
    meta = {"format": "pt", "generator": GEN}
    write(os.path.join(OUT, "mixed.safetensors"), safetensors_bytes(mixed_tensors(), meta))
    write(os.path.join(OUT, "no-metadata.safetensors"), safetensors_bytes(mixed_tensors()[:2], None))
    # 40-byte shard limit over these tensors: [24+12], [8], [4+16+4+3], [0+8+2 ...] — several shards incl. a lone one.
    shard_tensors = mixed_tensors()[:5] + [("big", "F32", [12], f32(*range(12)))] + mixed_tensors()[5:]
    for name, data in sharded(shard_tensors, 40, meta).items():
        write(os.path.join(OUT, "sharded", name), data)
    write(os.path.join(OUT, "config-smolvlm-256m.json"), dumps(smolvlm_256m_config()))
    write(os.path.join(OUT, "config-smolvlm2-minimal.json"), dumps(smolvlm2_minimal_config()))
    write(os.path.join(OUT, "config-no-text-config.json"), dumps(no_text_config()))
    write(os.path.join(OUT, "preset-256m.expected.json"), dumps(preset_256m_expected()))
    write(os.path.join(OUT, "smolvlm-256m.weights.txt"), smolvlm_256m_manifest())


if __name__ == "__main__":
    main()
