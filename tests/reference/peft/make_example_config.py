"""Writes tests/fixtures/peft/adapter_config.example.json.

An adapter_config.json as PEFT's PeftConfigMixin.save_pretrained writes it: json.dumps(output_dict, indent=2,
sort_keys=True), no trailing newline, sets turned into lists. The field values are PEFT's LoraConfig defaults
(peft tuners/lora/config.py; spec finetune.md section 2.2) for the SmolVLM cookbook recipe (r=8, alpha=8,
dropout 0.1, DoRA, gaussian init, the seven projection names). PEFT itself writes target_modules in a set's order;
VlmTune writes them sorted, and so does this script. Plain Python (json module only): no PEFT install is needed.

Run from the repository root: python3 tests/reference/peft/make_example_config.py
"""
import json
import os

config = {
    "alpha_pattern": {},
    "auto_mapping": None,
    "base_model_name_or_path": "HuggingFaceTB/SmolVLM-256M-Instruct",
    "bias": "none",
    "exclude_modules": None,
    "fan_in_fan_out": False,
    "inference_mode": True,
    "init_lora_weights": "gaussian",
    "layer_replication": None,
    "layers_pattern": None,
    "layers_to_transform": None,
    "loftq_config": {},
    "lora_alpha": 8,
    "lora_bias": False,
    "lora_dropout": 0.1,
    "megatron_config": None,
    "megatron_core": "megatron.core",
    "modules_to_save": None,
    "peft_type": "LORA",
    "peft_version": "0.17.0",
    "r": 8,
    "rank_pattern": {},
    "revision": None,
    "target_modules": sorted({"down_proj", "o_proj", "k_proj", "q_proj", "gate_proj", "up_proj", "v_proj"}),
    "target_parameters": None,
    "task_type": "CAUSAL_LM",
    "trainable_token_indices": None,
    "use_dora": True,
    "use_rslora": False,
}

out = os.path.join("tests", "fixtures", "peft", "adapter_config.example.json")
with open(out, "w") as f:
    f.write(json.dumps(config, indent=2, sort_keys=True))
print("wrote", out)
