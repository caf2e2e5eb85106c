#!/usr/bin/env python3
"""Summary of a bench/gpu/run.sh run (standard library only: runs on the GPU machine and on a dev machine).

    python3 bench/gpu/summarize.py WORK_DIR OUT_DIR

Reads WORK_DIR/stages.jsonl (one line per stage: name, rc, seconds, timed_out, skipped, log), WORK_DIR/configs.jsonl
(one line per timed SFT configuration: label, impl, model, mode, batch, warmup, steps, run_dir | peer_json) and the
files they name (gpucheck.json, compare JSONs, metrics.jsonl, hf_peer JSON); writes OUT_DIR/results.json (all of it)
and OUT_DIR/summary.txt (short tables), and prints summary.txt.
"""
import json
import os
import sys


def read_jsonl(path):
    rows = []
    if not os.path.isfile(path):
        return rows
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.strip()
            if not line:
                continue
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as e:
                rows.append({"_bad_line": n, "_error": str(e)})
    return rows


def read_json(path):
    if not path or not os.path.isfile(path):
        return None
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except (OSError, json.JSONDecodeError) as e:
        return {"_error": f"{path}: {e}"}


def median(xs):
    xs = sorted(xs)
    return xs[len(xs) // 2] if xs else None


def vlmtune_metrics(cfg):
    """Timed steps of a VlmTune run from its metrics.jsonl (steps after the warm-up ones)."""
    rows = [r for r in read_jsonl(os.path.join(cfg.get("run_dir", ""), "metrics.jsonl")) if "loss" in r and "step" in r]
    warm = int(cfg.get("warmup", 1))
    timed = [r for r in rows if r["step"] > warm] or rows[-1:]     # a run cut short: its last step at least
    res = {"steps_done": len(rows), "steps_timed": len(timed)}
    if not rows:
        return res
    step_s = [r["step_s"] for r in timed if "step_s" in r]
    tokens = [r["tokens_per_s"] * r["step_s"] for r in timed if "step_s" in r and "tokens_per_s" in r]
    res["step_s_median"] = median(step_s)
    res["tokens_per_step"] = round(sum(tokens) / len(tokens)) if tokens else None
    res["tokens_per_s"] = round(sum(tokens) / sum(step_s), 1) if tokens and sum(step_s) > 0 else None
    peaks = [r["device_peak_mb"] for r in rows if "device_peak_mb" in r]
    reserved = [r["device_reserved_mb"] for r in rows if "device_reserved_mb" in r]
    res["device_peak_mb"] = max(peaks) if peaks else None
    res["device_reserved_mb"] = max(reserved) if reserved else None
    res["host_peak_mb"] = max((r.get("peak_memory_mb", 0) for r in rows), default=None)
    res["loss_first"], res["loss_last"] = rows[0]["loss"], rows[-1]["loss"]
    res["warmup_step_s"] = [r.get("step_s") for r in rows if r["step"] <= warm]
    return res


def peer_metrics(cfg):
    p = read_json(cfg.get("peer_json"))
    if p is None:
        return {"error": "no peer result"}
    if not p.get("ok", False):
        return {"error": p.get("error", "failed"), "oom": p.get("oom")}
    if p.get("dry_run"):
        return {"dry_run": True, "tokens_per_step": (p.get("batch_info") or {}).get("tokens")}
    return {
        "steps_timed": len(p.get("step_s", [])), "step_s_median": p.get("step_s_median"),
        "tokens_per_step": p.get("tokens_per_step"), "tokens_per_s": p.get("tokens_per_s"),
        "device_peak_mb": p.get("max_memory_allocated_mb"), "device_reserved_mb": p.get("max_memory_reserved_mb"),
        "loss_first": p.get("loss_first"), "loss_last": p.get("loss_last"),
        "trainable_params": p.get("trainable_params"), "missing_keys": p.get("missing_keys"),
    }


def last_error_line(path, width=110):
    """The last line of a stage's log that says error/exception/failed (else its last line), shortened."""
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            lines = [l.strip() for l in f.read().splitlines()[-200:] if l.strip()]
    except (OSError, TypeError):
        return ""
    if not lines:
        return ""
    hits = [l for l in lines if any(w in l.lower() for w in ("error", "exception", "failed", "traceback"))]
    line = hits[-1] if hits else lines[-1]
    return line if len(line) <= width else line[: width - 1] + "…"


def fmt(v, spec=""):
    if v is None:
        return "-"
    if isinstance(v, float) and spec:
        return format(v, spec)
    return str(v)


def main(argv):
    if len(argv) != 3:
        print(__doc__, file=sys.stderr)
        return 2
    work, out = argv[1], argv[2]
    os.makedirs(out, exist_ok=True)
    meta = read_json(os.path.join(work, "meta.json")) or {}
    stages = read_jsonl(os.path.join(work, "stages.jsonl"))
    configs = read_jsonl(os.path.join(work, "configs.jsonl"))
    by_name = {s.get("name"): s for s in stages}

    gpucheck = read_json(os.path.join(work, "gpucheck.json"))
    parity = {}
    for s in stages:
        if s.get("compare_json"):
            parity[s["name"]] = read_json(s["compare_json"])

    timing = []
    for c in configs:
        m = vlmtune_metrics(c) if c.get("impl") == "vlmtune" else peer_metrics(c)
        stage = by_name.get(c.get("stage"), {})
        timing.append({**c, **m, "rc": stage.get("rc"), "timed_out": stage.get("timed_out"), "skipped": stage.get("skipped")})

    results = {"meta": meta, "stages": stages, "gpucheck": gpucheck, "parity": parity, "timing": timing}
    with open(os.path.join(out, "results.json"), "w", encoding="utf-8") as f:
        json.dump(results, f, indent=2)

    lines = [f"VlmTune GPU bench — {meta.get('started', '?')} — commit {meta.get('commit', '?')[:12]} — mode {meta.get('mode', '?')}"
             f"{' (quick)' if meta.get('quick') else ''} — {meta.get('gpu', '?')}", ""]
    lines.append(f"{'stage':<28} {'rc':>4} {'seconds':>8}  note")
    for s in stages:
        note = s.get("note", "")
        if s.get("skipped"):
            note = "SKIPPED: " + (s.get("skipped") if isinstance(s.get("skipped"), str) else "no time left")
        elif s.get("timed_out"):
            note = f"TIMED OUT after {s.get('limit')} s " + note
        if s.get("name") == "gpucheck" and gpucheck and "totals" in gpucheck:
            t = gpucheck["totals"]
            note = (f"{t['passed']} passed, {t['failed']} failed, {t['skipped']} skipped, {t['timed_out']} timed out, "
                    f"{t['not_run']} not run of {t['total']}; device {gpucheck.get('device') or gpucheck.get('device_error')}"
                    + (f"; CRASH in {gpucheck.get('running')}" if gpucheck.get("crash") else "") + " " + note)
        if s.get("name") in parity and parity[s["name"]]:
            p = parity[s["name"]]
            if "max_abs_diff" in p:
                note = (f"max|Δ| {p['max_abs_diff']:.3g} (max|ref| {p['max_abs_ref']:.3g}), cosine {p['cosine']:.6f}, "
                        f"argmax {p['argmax_agree']}/{p['argmax_rows']} → {'PASS' if p['pass'] else 'FAIL'} " + note)
        if s.get("rc") not in (0, None) and not note.strip():
            note = last_error_line(s.get("log"))
        lines.append(f"{s.get('name', '?'):<28} {fmt(s.get('rc')):>4} {fmt(s.get('seconds'), '.1f'):>8}  {note}".rstrip())
    if gpucheck and gpucheck.get("tests"):
        bad = [t for t in gpucheck["tests"] if t.get("outcome") in ("failed", "timed_out")]
        if bad:
            lines += ["", f"gpucheck failures ({len(bad)}):"]
            for t in bad[:25]:
                msg = (t.get("message") or "").splitlines()[0][:150] if t.get("message") else ""
                lines.append(f"  {t['name'][len('VlmTune.Tensors.Cuda.Tests.'):] if t['name'].startswith('VlmTune.Tensors.Cuda.Tests.') else t['name']}: {msg}")
            if len(bad) > 25:
                lines.append(f"  ... and {len(bad) - 25} more (results.json)")

    if timing:
        lines += ["", "SFT step timing (median of timed steps after warm-up; tokens = real tokens per step; MB = 10^6 bytes)"]
        lines.append(f"{'config':<16} {'impl':<8} {'batch':>5} {'tok/step':>8} {'steps':>5} {'step_s':>8} {'tokens/s':>9} "
                     f"{'peak_MB':>9} {'resv_MB':>9} {'loss first→last':>18}  status")
        for t in timing:
            status = "ok"
            if t.get("skipped"):
                status = "skipped"
            elif t.get("error"):
                status = "ERROR: " + str(t["error"])[:80]
            elif t.get("dry_run"):
                status = "dry-run"
            elif t.get("timed_out"):
                status = f"timed out ({t.get('steps_done', 0)} steps done)"
            elif t.get("rc") not in (0, None):
                status = f"rc {t.get('rc')} ({t.get('steps_done', 0)} steps done)"
            loss = (f"{t['loss_first']:.3f}→{t['loss_last']:.3f}" if isinstance(t.get("loss_first"), (int, float))
                    and isinstance(t.get("loss_last"), (int, float)) else "-")
            lines.append(f"{t.get('label', '?'):<16} {t.get('impl', '?'):<8} {fmt(t.get('batch')):>5} {fmt(t.get('tokens_per_step')):>8} "
                         f"{fmt(t.get('steps_timed')):>5} {fmt(t.get('step_s_median'), '.4f'):>8} {fmt(t.get('tokens_per_s'), '.1f'):>9} "
                         f"{fmt(t.get('device_peak_mb'), '.0f'):>9} {fmt(t.get('device_reserved_mb'), '.0f'):>9} {loss:>18}  {status}")
        lines += ["", "hf = transformers + PEFT, bf16 base (no bitsandbytes there), sdpa, same collated batch every step;",
                  "vlmtune = `vlmtune sft --device cuda` on the same recipe (its qlora rows have a 4-bit base, the hf row beside them does not)."]
    text = "\n".join(lines) + "\n"
    with open(os.path.join(out, "summary.txt"), "w", encoding="utf-8") as f:
        f.write(text)
    print(text, end="")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
