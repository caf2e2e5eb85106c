"""Writes the tiny model folders, the parity cases and the manifest under tests/fixtures/model/."""

import json
import os
import shutil
import sys

import torch

import safetensors_io as st
import smolvlm_reference as ref
from make_model_fixtures import (CHAT_TEMPLATE, FORMAT, GENERATOR, OUT, SEQ, TILE, TOKENIZER_DIR, random_tiles,
                                 render_user_turn)

GREEDY_STEPS = 16

# A sample is the content of one user message: text strings and ("image", rows, cols) items (rows = cols = 0: no split).
CASES = [
    {"name": "text_only", "samples": [["Write a short poem about a small robot."]],
     "description": "one sequence, no image"},
    {"name": "image_split", "samples": [["Look:", ("image", 2, 2), "What is it?"]],
     "description": "one image split 2x2 + global (5 tiles, 20 <image> tokens) with text before and after; "
                    "also the greedy continuation"},
    {"name": "batch_padded", "samples": [[("image", 2, 2), "Hi."],
                                         [("image", 0, 0), ("image", 0, 0), "Which is brighter?"]],
     "description": "right-padded batch of 2: sample 0 one 2x2-split image (5 tiles), sample 1 two unsplit images "
                    "(1 tile each) + 3 all-zero padding images"},
    {"name": "partial_mask", "samples": [[("image", 0, 0), ("image", 0, 0), "Same?"]],
     "partial": {0: (20, 13)},
     "description": "image 0's pixel_attention_mask is 1 only on its top-left 20x13 pixels (3x2 patches; pixels "
                    "outside are 0), exercising the patch mask, the NaViT position bucketing and the vision key mask; "
                    "image 1 is a full tile"},
]
BF16_CASES = ["image_split"]

MUTATIONS = ["rope_interleaved", "rope_theta_1e4", "gqa_modulo", "no_causal", "rms_eps_1e-6", "gelu_erf",
             "ln_eps_1e-5", "shuffle_swap_ij", "identity_pos_ids", "no_vision_key_mask"]


def dump_json(path, obj):
    with open(path, "w", encoding="utf-8") as f:
        json.dump(obj, f, indent=2, sort_keys=True)
        f.write("\n")


def write_model_dir(name, cfg, tok, tensors, dtype_name, with_tokenizer):
    d = os.path.join(OUT, name)
    os.makedirs(d, exist_ok=True)
    cfg = json.loads(json.dumps(cfg))
    cfg["torch_dtype"] = cfg["text_config"]["torch_dtype"] = dtype_name
    dump_json(os.path.join(d, "config.json"), cfg)
    st.write(os.path.join(d, "model.safetensors"), tensors, {"format": "pt", "generator": GENERATOR})
    if with_tokenizer:   # the bf16 folder skips this 294 KB copy to save space: use ../tiny/tokenizer.json
        shutil.copyfile(os.path.join(TOKENIZER_DIR, "smolvlm-tiny", "tokenizer.json"), os.path.join(d, "tokenizer.json"))
    dump_json(os.path.join(d, "chat_template.json"), {"_generator": GENERATOR, "chat_template": CHAT_TEMPLATE})
    dump_json(os.path.join(d, "preprocessor_config.json"), {
        "_generator": GENERATOR, "do_convert_rgb": True, "do_image_splitting": True, "do_normalize": True,
        "do_pad": True, "do_rescale": True, "do_resize": True, "image_mean": [0.5, 0.5, 0.5],
        "image_processor_type": "Idefics3ImageProcessor", "image_std": [0.5, 0.5, 0.5],
        "max_image_size": {"longest_edge": TILE}, "processor_class": "Idefics3Processor", "resample": 1,
        "rescale_factor": 0.00392156862745098, "size": {"longest_edge": 2 * TILE}})
    dump_json(os.path.join(d, "processor_config.json"),
              {"_generator": GENERATOR, "image_seq_len": SEQ, "processor_class": "Idefics3Processor"})
    dump_json(os.path.join(d, "tokenizer_config.json"), {
        "_generator": GENERATOR, "add_prefix_space": False,
        "additional_special_tokens": ["<fake_token_around_image>", "<image>", "<end_of_utterance>"],
        "bos_token": "<|im_start|>", "clean_up_tokenization_spaces": False, "end_of_utterance_token": "<end_of_utterance>",
        "eos_token": "<end_of_utterance>", "fake_image_token": "<fake_token_around_image>",
        "global_image_token": "<global-img>", "image_token": "<image>", "model_max_length": 2048,
        "pad_token": "<|im_end|>", "processor_class": "Idefics3Processor", "tokenizer_class": "GPT2Tokenizer",
        "truncation_side": "left", "unk_token": "<|endoftext|>"})
    dump_json(os.path.join(d, "generation_config.json"), {
        "_generator": GENERATOR, "bos_token_id": tok.token_id("<|im_start|>"),
        "eos_token_id": tok.token_id("<end_of_utterance>"), "pad_token_id": tok.token_id("<|im_end|>")})


def build_inputs(case, tok):
    """-> dict of input tensors (pixel values float32) + per-sample prompt info."""
    pad = tok.token_id("<|im_end|>")
    rows_ids, info, tiles = [], [], []
    for si, content in enumerate(case["samples"]):
        prompt, expanded, images = render_user_turn(content)
        ids = tok.encode(expanded)
        rows_ids.append(ids)
        sample_tiles = []
        for ii, (r, c) in enumerate(images):
            n = r * c + 1 if r or c else 1
            sample_tiles += [(si, ii, t) for t in range(n)]
        tiles.append(sample_tiles)
        info.append({"prompt": prompt, "expanded": expanded, "images": [{"rows": r, "cols": c} for r, c in images],
                     "length": len(ids)})
    L = max(len(r) for r in rows_ids)
    input_ids = torch.full((len(rows_ids), L), pad, dtype=torch.int64)
    attention_mask = torch.zeros(len(rows_ids), L, dtype=torch.int64)
    for i, r in enumerate(rows_ids):
        input_ids[i, :len(r)] = torch.tensor(r)
        attention_mask[i, :len(r)] = 1
    out = {"input_ids": input_ids, "attention_mask": attention_mask}
    n_max = max(len(t) for t in tiles)
    if n_max:
        pv = torch.zeros(len(tiles), n_max, 3, TILE, TILE, dtype=torch.float32)
        pm = torch.zeros(len(tiles), n_max, TILE, TILE, dtype=torch.int64)
        for si, sample_tiles in enumerate(tiles):
            if sample_tiles:
                pv[si, :len(sample_tiles)] = random_tiles(f"{case['name']}/sample{si}", len(sample_tiles))
                pm[si, :len(sample_tiles)] = 1
        for image_index, (h, w) in case.get("partial", {}).items():
            pm[0, image_index] = 0
            pm[0, image_index, :h, :w] = 1
            pv[0, image_index] *= pm[0, image_index].to(torch.float32)    # padded pixels are 0, as the processor pads
        out["pixel_values"], out["pixel_attention_mask"] = pv, pm
    return out, info


def run(cfg, weights, inputs, dtype=torch.float64, mutations=frozenset()):
    """The reference forward on `inputs` with the weights and pixel values widened (exactly) to `dtype`."""
    W = {k: v.to(dtype) for k, v in weights.items()}
    pv = inputs.get("pixel_values")
    return ref.forward(W, cfg, inputs["input_ids"], inputs["attention_mask"],
                       None if pv is None else pv.to(dtype), inputs.get("pixel_attention_mask"), mutations)


def real_max_abs(a, b, mask):
    """max |a − b| over positions where mask is 1 (a, b [B, L, V])."""
    return float(((a - b).abs().amax(dim=-1) * mask).max())


def write_all(cfg, weights, tok):
    if os.path.isdir(OUT):
        shutil.rmtree(OUT)
    os.makedirs(os.path.join(OUT, "cases"))
    bf16 = {k: st.f32_to_bf16_bits(v)[0] for k, v in weights.items()}
    bf16_as_f32 = {k: st.bf16_bits_to_f32(b).reshape(weights[k].shape) for k, b in bf16.items()}
    write_model_dir("tiny", cfg, tok, weights, "float32", True)
    write_model_dir("tiny-bf16", cfg, tok, {k: st.Bf16(b.reshape(weights[k].shape)) for k, b in bf16.items()}, "bfloat16", False)

    manifest_cases, sensitivity = [], {m: {} for m in MUTATIONS}
    for case in CASES:
        inputs, info = build_inputs(case, tok)
        for variant, w in [("tiny", weights)] + ([("tiny-bf16", bf16_as_f32)] if case["name"] in BF16_CASES else []):
            res = run(cfg, w, inputs)
            tensors = dict(inputs)
            tensors["logits"] = res["logits"]
            tensors["final_hidden"] = res["final_hidden"]
            tensors["inputs_embeds"] = res["inputs_embeds"]
            if "features" in res:
                tensors["image_features"] = res["features"]
                tensors["vision_last_hidden"] = res["vision_hidden"]
                tensors["vision_position_ids"] = res["pos_ids"]
            tensors = {k: (v.to(torch.float32) if v.dtype.is_floating_point else v) for k, v in tensors.items()}
            entry = {"name": case["name"] + ("" if variant == "tiny" else "_bf16"), "checkpoint": variant,
                     "description": case["description"], "samples": info}
            mask = inputs["attention_mask"]
            f32 = run(cfg, {k: v.to(torch.float32) for k, v in w.items()}, inputs, torch.float32)["logits"]
            entry["float32_rerun_max_abs_diff"] = real_max_abs(f32.double(), res["logits"], mask)
            entry["max_abs_logit"] = float(res["logits"].abs().max())
            if case["name"] == "image_split":
                pv = inputs["pixel_values"].double()
                Wd = {k: v.double() for k, v in w.items()}
                gen, margins = ref.greedy(Wd, cfg, inputs["input_ids"], pv, inputs["pixel_attention_mask"], GREEDY_STEPS)
                tensors["generated_ids"] = torch.tensor(gen, dtype=torch.int64)
                entry["generated_ids"] = gen
                entry["greedy_min_margin"] = min(margins)
            if variant == "tiny":
                for m in MUTATIONS:
                    sensitivity[m][case["name"]] = real_max_abs(run(cfg, w, inputs, mutations={m})["logits"], res["logits"], mask)
            fname = entry["name"] + ".safetensors"
            st.write(os.path.join(OUT, "cases", fname), tensors,
                     {"generator": GENERATOR, "format": str(FORMAT), "case": entry["name"], "checkpoint": variant})
            entry["file"] = "cases/" + fname
            entry["tensors"] = {k: {"dtype": st._name_of(v), "shape": list(v.shape)} for k, v in sorted(tensors.items())}
            manifest_cases.append(entry)
            print(f"{entry['name']}: L={inputs['input_ids'].shape[1]} f32-noise={entry['float32_rerun_max_abs_diff']:.2e} "
                  f"max|logit|={entry['max_abs_logit']:.3f}", file=sys.stderr)

    manifest = {
        "format": FORMAT, "generator": GENERATOR, "torch": torch.__version__,
        "reference": "independent plain-torch re-expression of transformers' SmolVLM/Idefics3 + Llama forward "
                     "(not transformers itself); computed in float64 from the float32 (or bf16-rounded) weights and "
                     "float32 inputs, results rounded once to float32",
        "positions": "text position ids are arange(L) for every sample (HF forward without position_ids); "
                     "vision position ids by the original NaViT bucketing in torch float32",
        "compare": "logits/final_hidden/inputs_embeds: compare positions with attention_mask 1 only; padding rows "
                   "are stored but implementation-defined",
        "image_token_id": cfg["image_token_id"], "pad_token_id": tok.token_id("<|im_end|>"),
        "model_dirs": {"tiny": "float32 weights", "tiny-bf16": "the same weights rounded to bfloat16 (RNE)"},
        "cases": manifest_cases,
        "sensitivity": {"what": "max |logit change| over real tokens when the named bug is injected into the reference",
                        "values": sensitivity},
    }
    dump_json(os.path.join(OUT, "manifest.json"), manifest)
    with open(os.path.join(OUT, "README.md"), "w", encoding="utf-8") as f:
        f.write("# Model parity fixtures\n\nEverything in this folder is written by `" + GENERATOR + "` (an independent\n"
                "plain-PyTorch reference, not HF transformers); `tiny/tokenizer.json` is a copy of\n"
                "`tests/fixtures/tokenizer/smolvlm-tiny/tokenizer.json`. Start with `manifest.json`; details, numerics and\n"
                "caveats are in `tests/reference/model/README.md`. Do not edit by hand: re-run the generator.\n")
    total = sum(os.path.getsize(os.path.join(dp, f)) for dp, _, fs in os.walk(OUT) for f in fs)
    print(f"wrote {OUT}: {total} bytes", file=sys.stderr)
    for m, per_case in sensitivity.items():
        print(f"  {m:20s} " + " ".join(f"{c}={v:.2e}" for c, v in per_case.items()), file=sys.stderr)
