#!/usr/bin/env python3
"""The Hugging Face peer of one VlmTune SFT configuration, for bench/gpu/run.sh on the GPU machine.

transformers + PEFT, bf16 base (the GPU machine has no bitsandbytes, so this is LoRA/DoRA on a bf16 base even when
the VlmTune run it is compared with is QLoRA), attn_implementation="sdpa", gradient checkpointing as the recipe says,
torch.optim.AdamW, clip to max_grad_norm. It trains on exactly the batch VlmTune's trainer would run first
(`vlmtune sft-batch RECIPE --out batch.safetensors`, same encoder / seeded order / collator), the same batch every
step, and times N steps after W warm-up steps (torch.cuda.synchronize() around each step).

    python3 bench/gpu/hf_peer.py --model CKPT_DIR --batch batch.safetensors --recipe RUN/recipe.resolved.yaml \
        --steps 5 --warmup 2 --out peer.json
    python3 bench/gpu/hf_peer.py ... --dry-run     # arguments, files and batch layout only; no torch import

Prints one JSON object (also written to --out): tokens/s (real tokens = attention_mask.sum() per step, VlmTune's
definition), step times, torch.cuda.max_memory_allocated / reserved, losses, trainable parameters, load report.
Exit codes: 0 ok, 2 bad arguments or files, 3 CUDA out of memory, 4 no CUDA device, 1 anything else.
"""
import argparse
import array
import json
import math
import os
import re
import struct
import sys
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")          # no network on the GPU machine: never try the hub
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

EXIT_ARGS, EXIT_OOM, EXIT_NO_CUDA, EXIT_OTHER = 2, 3, 4, 1


class UsageError(Exception):
    pass


# ---------------------------------------------------------------- files, without torch (also for --dry-run)

def read_safetensors_header(path):
    """(header dict, data offset) of a .safetensors file, parsed with struct + json."""
    try:
        with open(path, "rb") as f:
            raw = f.read(8)
            if len(raw) != 8:
                raise UsageError(f"{path}: not a safetensors file (shorter than 8 bytes)")
            (n,) = struct.unpack("<Q", raw)
            if n <= 0 or n > 100 * 1024 * 1024:
                raise UsageError(f"{path}: not a safetensors file (header length {n})")
            header = json.loads(f.read(n).decode("utf-8"))
    except OSError as e:
        raise UsageError(f"{path}: cannot read: {e}")
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise UsageError(f"{path}: bad safetensors header: {e}")
    return header, 8 + n


def read_i64(path, header, offset, name):
    info = header[name]
    if info.get("dtype") != "I64":
        raise UsageError(f"{path}: {name} is {info.get('dtype')}, I64 expected")
    start, end = info["data_offsets"]
    values = array.array("q")
    with open(path, "rb") as f:
        f.seek(offset + start)
        values.frombytes(f.read(end - start))
    if sys.byteorder != "little":
        values.byteswap()
    return values


def check_model_dir(model):
    if not os.path.isdir(model):
        raise UsageError(f"--model {model}: not a folder")
    cfg_path = os.path.join(model, "config.json")
    if not os.path.isfile(cfg_path):
        raise UsageError(f"--model {model}: no config.json (write one with `vlmtune init --like smolvlm-256m --out DIR`)")
    with open(cfg_path, encoding="utf-8") as f:
        try:
            cfg = json.load(f)
        except json.JSONDecodeError as e:
            raise UsageError(f"{cfg_path}: invalid JSON: {e}")
    weights = [n for n in os.listdir(model) if n.endswith(".safetensors")]
    if not weights:
        raise UsageError(f"--model {model}: no *.safetensors weights")
    if cfg.get("model_type") not in ("idefics3", "smolvlm"):
        raise UsageError(f"{cfg_path}: model_type is {cfg.get('model_type')!r}; idefics3 (SmolVLM) expected")
    return cfg, sorted(weights)


def image_seq_len(cfg):
    v = cfg.get("vision_config", {})
    size, patch, scale = v.get("image_size", 512), v.get("patch_size", 16), cfg.get("scale_factor", 4)
    return (size // patch) ** 2 // (scale * scale)


def check_batch(path, cfg):
    """Shapes and image-token counts of a `vlmtune sft-batch` file against the model config."""
    if not os.path.isfile(path):
        raise UsageError(f"--batch {path}: not found (make it with `vlmtune sft-batch RECIPE --out FILE`)")
    header, offset = read_safetensors_header(path)
    for name in ("input_ids", "attention_mask", "labels"):
        if name not in header:
            raise UsageError(f"{path}: no tensor {name!r} (has: {', '.join(k for k in header if k != '__metadata__')})")
    b, t = header["input_ids"]["shape"]
    for name in ("attention_mask", "labels"):
        if header[name]["shape"] != [b, t]:
            raise UsageError(f"{path}: {name} has shape {header[name]['shape']}, input_ids has {[b, t]}")
    tiles = 0
    if "pixel_values" in header:
        pv = header["pixel_values"]["shape"]
        if len(pv) != 5 or pv[0] != b or pv[2] != 3 or pv[3] != pv[4]:
            raise UsageError(f"{path}: pixel_values has shape {pv}; (B, N, 3, M, M) expected")
        tiles = pv[1]
        size = cfg.get("vision_config", {}).get("image_size")
        if size is not None and pv[3] != size:
            raise UsageError(f"{path}: tiles are {pv[3]}² but the model's vision_config.image_size is {size}")
        if "pixel_attention_mask" in header and header["pixel_attention_mask"]["shape"] != [b, pv[1], pv[3], pv[4]]:
            raise UsageError(f"{path}: pixel_attention_mask has shape {header['pixel_attention_mask']['shape']}")
    ids = read_i64(path, header, offset, "input_ids")
    mask = read_i64(path, header, offset, "attention_mask")
    labels = read_i64(path, header, offset, "labels")
    image_id = cfg.get("image_token_id")
    vocab = cfg.get("text_config", {}).get("vocab_size")
    per_sample = [sum(1 for j in range(t) if ids[i * t + j] == image_id) for i in range(b)]
    if vocab is not None and any(x < 0 or x >= vocab for x in ids):
        raise UsageError(f"{path}: input_ids outside the model's vocabulary [0, {vocab})")
    seq = image_seq_len(cfg)
    if tiles and any(n % seq for n in per_sample):
        raise UsageError(f"{path}: image tokens per sample {per_sample} are not multiples of the model's {seq} per tile")
    return {
        "batch": b, "seq_len": t, "tiles_per_sample": tiles,
        "tokens": int(sum(mask)), "supervised_tokens": int(sum(1 for x in labels if x != -100)),
        "image_tokens_per_sample": per_sample, "metadata": header.get("__metadata__", {}),
    }


# ---------------------------------------------------------------- the recipe (lora / train sections)

def parse_scalar(text):
    text = text.strip()
    if text in ("", "~", "null"):
        return None
    if text in ("true", "false"):
        return text == "true"
    if text.startswith("[") and text.endswith("]"):
        inner = text[1:-1].strip()
        return [parse_scalar(x) for x in inner.split(",")] if inner else []
    if len(text) >= 2 and text[0] == text[-1] and text[0] in "'\"":
        return text[1:-1]
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def load_recipe(path):
    """The recipe YAML as a dict: PyYAML when it is there, else a small reader for VlmTune's recipe subset
    (nested mappings by indentation, inline [a, b] lists and block '- item' lists, # comments)."""
    try:
        with open(path, encoding="utf-8") as f:
            text = f.read()
    except OSError as e:
        raise UsageError(f"--recipe {path}: {e}")
    try:
        import yaml  # noqa: PLC0415
        data = yaml.safe_load(text)
        if not isinstance(data, dict):
            raise UsageError(f"--recipe {path}: not a mapping")
        return data
    except ImportError:
        pass
    except Exception as e:  # yaml.YAMLError
        raise UsageError(f"--recipe {path}: {e}")
    root = {}
    stack = [(-1, root, None, None)]     # (indent, container, owner, key in owner)
    last_key = {}                         # id(dict) → its last key
    for lineno, line in enumerate(text.splitlines(), 1):
        stripped = re.sub(r"(^|\s+)#.*$", "", line).rstrip()
        if not stripped.strip():
            continue
        indent = len(stripped) - len(stripped.lstrip())
        body = stripped.strip()
        if body.startswith("- ") or body == "-":
            while len(stack) > 1 and indent < stack[-1][0]:
                stack.pop()
            _, container, owner, key = stack[-1]
            if isinstance(container, dict) and not container and owner is not None:
                # "key:" opened an empty block that turns out to be a list (items indented under it)
                owner[key] = container = []
                stack[-1] = (stack[-1][0], container, owner, key)
            elif isinstance(container, dict):
                # items at the key's own indentation ("key:\n- a")
                k = last_key.get(id(container))
                if k is None:
                    raise UsageError(f"{path}:{lineno}: a list item outside a key")
                if not isinstance(container.get(k), list):
                    container[k] = []
                container = container[k]
            container.append(parse_scalar(body[1:]))
            continue
        while len(stack) > 1 and indent <= stack[-1][0]:
            stack.pop()
        parent = stack[-1][1]
        if not isinstance(parent, dict) or ":" not in body:
            raise UsageError(f"{path}:{lineno}: expected 'key: value'")
        key, _, value = body.partition(":")
        key = key.strip()
        last_key[id(parent)] = key
        if value.strip() == "":
            child = {}
            parent[key] = child
            stack.append((indent, child, parent, key))
        else:
            parent[key] = parse_scalar(value)
    return root


def lora_settings(args, recipe):
    lora = (recipe or {}).get("lora", {}) or {}
    train = (recipe or {}).get("train", {}) or {}

    def pick(cli, key, section, default):
        return cli if cli is not None else section.get(key, default)

    targets = args.targets.split(",") if args.targets else lora.get("targets", ["q_proj", "k_proj", "v_proj", "o_proj"])
    if isinstance(targets, str):
        targets = targets if targets == "all-linear" else [t.strip() for t in targets.split(",")]
    towers = args.towers.split(",") if args.towers else lora.get("towers", ["text"])
    settings = {
        "r": int(pick(args.lora_r, "r", lora, 8)),
        "alpha": float(pick(args.lora_alpha, "alpha", lora, 8)),
        "dropout": float(pick(args.lora_dropout, "dropout", lora, 0.0)),
        "targets": targets,
        "towers": towers,
        "targets_regex": lora.get("targets_regex"),
        "use_dora": bool(pick(args.use_dora, "use_dora", lora, False)),
        "use_rslora": bool(lora.get("use_rslora", False)),
        "init": str(pick(args.init, "init", lora, "kaiming")),
        "modules_to_save": lora.get("modules_to_save", []) or [],
        "lr": float(pick(args.lr, "lr", train, 1e-4)),
        "weight_decay": float(pick(args.weight_decay, "weight_decay", train, 0.0)),
        "max_grad_norm": float(pick(args.max_grad_norm, "max_grad_norm", train, 1.0)),
        "gradient_checkpointing": bool(pick(args.gradient_checkpointing, "gradient_checkpointing", train, True)),
    }
    if settings["r"] <= 0:
        raise UsageError(f"lora r must be positive, got {settings['r']}")
    if settings["targets_regex"]:
        try:
            re.compile(settings["targets_regex"])
        except re.error as e:
            raise UsageError(f"lora targets_regex {settings['targets_regex']!r}: {e}")
    if settings["targets"] != "all-linear" and not isinstance(settings["targets"], list):
        raise UsageError(f"lora targets must be a list or all-linear, got {settings['targets']!r}")
    for t in settings["towers"]:
        if t not in ("text", "vision", "connector"):
            raise UsageError(f"lora towers: unknown tower {t!r} (text, vision, connector)")
    return settings


def tower_of(name):
    if ".vision_model." in f".{name}." or name.startswith("vision_model."):
        return "vision"
    if "connector" in name:
        return "connector"
    if ".text_model." in f".{name}." or name.startswith("text_model."):
        return "text"
    return None


def target_module_names(model, s):
    """Full names of the Linear layers to adapt: VlmTune's rule (named targets or all-linear, restricted to the
    recipe's towers, never lm_head), spelled out so that PEFT's suffix matching cannot add more."""
    import torch  # noqa: PLC0415
    return select_targets([n for n, m in model.named_modules() if isinstance(m, torch.nn.Linear)], s)


def select_targets(linear_names, s):
    names = []
    for name in linear_names:
        if name.endswith("lm_head") or tower_of(name) not in s["towers"]:
            continue
        leaf = name.rsplit(".", 1)[-1]
        if s.get("targets_regex"):
            if re.fullmatch(s["targets_regex"], name):
                names.append(name)
        elif s["targets"] == "all-linear" or leaf in s["targets"]:
            names.append(name)
    return names


# ---------------------------------------------------------------- the run

def load_model(model_dir, attn):
    import torch  # noqa: PLC0415
    import transformers  # noqa: PLC0415
    classes = []
    for name in ("Idefics3ForConditionalGeneration", "AutoModelForImageTextToText", "AutoModelForVision2Seq"):
        cls = getattr(transformers, name, None)
        if cls is not None:
            classes.append((name, cls))
    if not classes:
        raise RuntimeError(f"transformers {transformers.__version__} has no Idefics3ForConditionalGeneration")
    errors = []
    for name, cls in classes:
        for dtype_kw in ("dtype", "torch_dtype"):
            try:
                model, info = cls.from_pretrained(model_dir, **{dtype_kw: torch.bfloat16}, attn_implementation=attn,
                                                  local_files_only=True, output_loading_info=True)
                return model, info, name
            except TypeError as e:
                errors.append(f"{name}({dtype_kw}=): {e}")
                continue
            except Exception as e:  # a real load failure: try the next class, report all
                errors.append(f"{name}: {type(e).__name__}: {e}")
                break
    raise RuntimeError("could not load the checkpoint: " + " | ".join(errors))


def run(args, s, batch_info, cfg):
    import torch  # noqa: PLC0415
    if not torch.cuda.is_available():
        raise SystemExit(emit(args, {"error": "no CUDA device visible to torch", "stage": "setup"}, EXIT_NO_CUDA))
    import peft  # noqa: PLC0415
    import transformers  # noqa: PLC0415
    from safetensors.torch import load_file  # noqa: PLC0415

    dev = torch.device("cuda:0")
    torch.manual_seed(args.seed)
    t0 = time.perf_counter()
    model, info, cls_name = load_model(args.model, args.attn)
    load_s = time.perf_counter() - t0
    missing = list(info.get("missing_keys", []) or [])
    unexpected = list(info.get("unexpected_keys", []) or [])
    model.to(dev)
    model.config.use_cache = False
    if getattr(model.config, "text_config", None) is not None:
        model.config.text_config.use_cache = False

    names = target_module_names(model, s)
    if not names:
        raise UsageError(f"no Linear layer matches targets {s['targets']} in towers {s['towers']}")
    init = {"gaussian": "gaussian", "kaiming": True, "zeros": True}.get(s["init"], True)
    lcfg = peft.LoraConfig(r=s["r"], lora_alpha=s["alpha"], lora_dropout=s["dropout"], target_modules=names,
                           use_dora=s["use_dora"], use_rslora=s["use_rslora"], init_lora_weights=init, bias="none",
                           modules_to_save=s["modules_to_save"] or None)
    model = peft.get_peft_model(model, lcfg)
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    if s["gradient_checkpointing"]:
        model.gradient_checkpointing_enable(gradient_checkpointing_kwargs={"use_reentrant": False})
    model.train()

    tensors = load_file(args.batch, device="cpu")
    feed = {
        "input_ids": tensors["input_ids"].to(dev),
        "attention_mask": tensors["attention_mask"].to(dev),
        "labels": tensors["labels"].to(dev),
    }
    if "pixel_values" in tensors:
        feed["pixel_values"] = tensors["pixel_values"].to(dev, dtype=torch.bfloat16)
        if "pixel_attention_mask" in tensors:
            feed["pixel_attention_mask"] = tensors["pixel_attention_mask"].to(dev, dtype=torch.bool)
    tokens = int(tensors["attention_mask"].sum())

    params = [p for p in model.parameters() if p.requires_grad]
    try:
        opt = torch.optim.AdamW(params, lr=s["lr"], weight_decay=s["weight_decay"], fused=True)
    except (TypeError, RuntimeError):
        opt = torch.optim.AdamW(params, lr=s["lr"], weight_decay=s["weight_decay"])
    torch.cuda.reset_peak_memory_stats(dev)

    times, losses = [], []
    for step in range(args.warmup + args.steps):
        torch.cuda.synchronize(dev)
        t = time.perf_counter()
        out = model(**feed)
        loss = out.loss
        loss.backward()
        if s["max_grad_norm"] > 0:
            torch.nn.utils.clip_grad_norm_(params, s["max_grad_norm"])
        opt.step()
        opt.zero_grad(set_to_none=True)
        torch.cuda.synchronize(dev)
        dt = time.perf_counter() - t
        losses.append(float(loss.detach()))
        if step >= args.warmup:
            times.append(dt)
        if args.verbose:
            print(f"hf_peer: step {step + 1}/{args.warmup + args.steps} {'(warm-up) ' if step < args.warmup else ''}"
                  f"{dt * 1000:.1f} ms loss {losses[-1]:.4f}", file=sys.stderr, flush=True)
    times_sorted = sorted(times)
    median = times_sorted[len(times_sorted) // 2] if times else float("nan")
    mean = sum(times) / len(times) if times else float("nan")
    return {
        "ok": True,
        "versions": {"torch": torch.__version__, "transformers": transformers.__version__, "peft": peft.__version__},
        "gpu": torch.cuda.get_device_name(dev),
        "model_class": cls_name,
        "load_s": round(load_s, 3),
        "missing_keys": len(missing), "unexpected_keys": len(unexpected),
        "missing_keys_sample": missing[:5], "unexpected_keys_sample": unexpected[:5],
        "trainable_params": trainable, "adapted_linears": len(names),
        "tokens_per_step": tokens,
        "step_s": [round(x, 5) for x in times],
        "step_s_median": round(median, 5), "step_s_mean": round(mean, 5),
        "tokens_per_s": round(tokens / median, 1) if times and median > 0 else None,
        "max_memory_allocated_mb": round(torch.cuda.max_memory_allocated(dev) / 1e6, 1),
        "max_memory_reserved_mb": round(torch.cuda.max_memory_reserved(dev) / 1e6, 1),
        "loss_first": losses[0] if losses else None, "loss_last": losses[-1] if losses else None,
        "losses_finite": all(math.isfinite(x) for x in losses),
    }


def emit(args, result, code=0):
    result = {"tool": "hf_peer", "label": args.label, "model": os.path.abspath(args.model) if args.model else None,
              "batch": os.path.abspath(args.batch) if args.batch else None, **result}
    text = json.dumps(result, indent=2, default=str)
    print(text, flush=True)
    if args.out:
        try:
            os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
            with open(args.out, "w", encoding="utf-8") as f:
                f.write(text + "\n")
        except OSError as e:
            print(f"hf_peer: cannot write --out {args.out}: {e}", file=sys.stderr)
    return code


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0], formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="checkpoint folder (HF layout, e.g. from `vlmtune init --like smolvlm-256m`)")
    p.add_argument("--batch", required=True, help="`vlmtune sft-batch` safetensors: input_ids, attention_mask, labels[, pixel_values, pixel_attention_mask]")
    p.add_argument("--recipe", help="VlmTune recipe (e.g. the run's recipe.resolved.yaml): lora.* and train.* defaults")
    p.add_argument("--out", help="also write the JSON result here")
    p.add_argument("--label", default="", help="free text copied into the result (e.g. 256m-lora)")
    p.add_argument("--steps", type=int, default=5, help="timed steps (default 5)")
    p.add_argument("--warmup", type=int, default=2, help="untimed warm-up steps first (default 2)")
    p.add_argument("--seed", type=int, default=42)
    p.add_argument("--attn", default="sdpa", choices=["sdpa", "eager", "flash_attention_2"])
    p.add_argument("--lora-r", type=int)
    p.add_argument("--lora-alpha", type=float)
    p.add_argument("--lora-dropout", type=float)
    p.add_argument("--targets", help="comma-separated module names, or all-linear (default: the recipe's)")
    p.add_argument("--towers", help="comma-separated: text, vision, connector (default: the recipe's)")
    p.add_argument("--init", choices=["gaussian", "kaiming", "zeros"])
    dora = p.add_mutually_exclusive_group()
    dora.add_argument("--use-dora", dest="use_dora", action="store_true", default=None)
    dora.add_argument("--no-dora", dest="use_dora", action="store_false")
    gc = p.add_mutually_exclusive_group()
    gc.add_argument("--gradient-checkpointing", dest="gradient_checkpointing", action="store_true", default=None)
    gc.add_argument("--no-gradient-checkpointing", dest="gradient_checkpointing", action="store_false")
    p.add_argument("--lr", type=float)
    p.add_argument("--weight-decay", type=float)
    p.add_argument("--max-grad-norm", type=float)
    p.add_argument("--dry-run", action="store_true", help="check arguments, files and the batch; import no torch")
    p.add_argument("--verbose", action="store_true", help="one stderr line per step")
    args = p.parse_args(argv)

    try:
        if args.steps < 1 or args.warmup < 0:
            raise UsageError("--steps must be ≥ 1 and --warmup ≥ 0")
        cfg, weights = check_model_dir(args.model)
        batch_info = check_batch(args.batch, cfg)
        recipe = load_recipe(args.recipe) if args.recipe else None
        s = lora_settings(args, recipe)
    except UsageError as e:
        print(f"hf_peer: error: {e}", file=sys.stderr)
        return emit(args, {"ok": False, "error": str(e), "stage": "arguments"}, EXIT_ARGS)

    plan = {"settings": s, "batch_info": batch_info, "weights": weights, "steps": args.steps, "warmup": args.warmup,
            "attn": args.attn, "base_dtype": "bf16", "note": "LoRA on a bf16 base (no bitsandbytes on the GPU machine)"}
    if args.dry_run:
        return emit(args, {"ok": True, "dry_run": True, **plan})
    try:
        result = run(args, s, batch_info, cfg)
        return emit(args, {**plan, **result})
    except UsageError as e:
        return emit(args, {"ok": False, "error": str(e), "stage": "setup", **plan}, EXIT_ARGS)
    except SystemExit:
        raise
    except Exception as e:  # OOM and everything else: one JSON line that says what happened
        oom = type(e).__name__ == "OutOfMemoryError" or "out of memory" in str(e).lower()
        return emit(args, {"ok": False, "error": f"{type(e).__name__}: {e}", "oom": oom,
                           "traceback": traceback.format_exc(limit=8), **plan}, EXIT_OOM if oom else EXIT_OTHER)


if __name__ == "__main__":
    sys.exit(main())
