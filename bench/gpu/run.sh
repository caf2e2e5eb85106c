#!/usr/bin/env bash
# VlmTune on the GPU machine, in one call of at most 10 minutes: environment, the CUDA backend's parity tests on the
# real GPU, tiny-model logits parity (cpu vs cuda), SFT step timing for SmolVLM 256M / 500M / 2.2B (QLoRA and LoRA)
# and the transformers + PEFT peer on the same batches; everything lands in $OUT (at most 8 files come back:
# summary.txt, results.json, gpucheck.json, run.log, logs.tgz).
#
#   bash bench/gpu/run.sh [--simulate] [--quick] [--bundle DIR] [--out DIR] [--work DIR] [--budget SECONDS]
#
#   --simulate   VLMTUNE_CUDA_SIMULATE=1 (the CUDA backend on ILGPU's CPU accelerator), tiny model only, the
#                Python peer only as --dry-run: runs on a dev machine without a GPU in minutes.
#   --quick      fewer steps, 256M only, shorter gpucheck.
#   --bundle DIR the folder bench/gpu/bundle.sh wrote (default artifacts/gpu-bundle); without one (dev machine) the
#                framework-dependent build bench/VlmTune.GpuCheck/bin/Release/net10.0 is used through `dotnet`.
#   --budget S   whole-run deadline in seconds (default 560 on a GPU, 2400 simulated); stages that would start
#                after it are recorded as skipped, and each stage is killed at its own limit.
# Variables: BS_256M BS_500M BS_2B (batch sizes; BS sets all), STEPS, WARMUP, MODELS ("256m 500m 2.2b"),
#   MODES ("qlora lora"; "none" = no VlmTune runs), INIT_LIMIT (seconds for each model's init), PYTHON (default /opt/torch/.venv/bin/python3 when present, else python3),
#   SFT_SET (extra --set overrides for every VlmTune run, e.g. "lora.use_dora=false"; the peer reads the resolved
#   recipe, so it follows), STAGES (default "env gpucheck parity timing": the groups to run).
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
simulate=0 quick=0 bundle="" out="${OUT:-}" work="" budget=""
while [ $# -gt 0 ]; do
  case "$1" in
    --simulate) simulate=1 ;;
    --quick) quick=1 ;;
    --bundle) bundle="$2"; shift ;;
    --out) out="$2"; shift ;;
    --work) work="$2"; shift ;;
    --budget) budget="$2"; shift ;;
    -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
    *) echo "run.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
  shift
done

[ -n "$out" ] || out="$repo/out/gpu-bench"
[ -n "$work" ] || work="${TMPDIR:-/tmp}/vlmtune-gpu-bench"
if [ -z "$budget" ]; then if [ "$simulate" = 1 ]; then budget=2400; else budget=560; fi; fi
mkdir -p "$out" "$work"
out=$(cd "$out" && pwd)
# Clear the work folder only when it is one of ours (an earlier run's meta.json) or empty.
if [ -f "$work/meta.json" ]; then rm -rf "${work:?}"/* 2>/dev/null
elif [ -n "$(ls -A "$work")" ]; then echo "run.sh: --work $work is not empty and not an earlier run's; choose another" >&2; exit 2; fi
logs="$work/logs"
mkdir -p "$logs"
exec > >(tee "$out/run.log") 2>&1

t_start=$(date +%s)
deadline=$((t_start + budget))
reserve=15                      # kept for the summary and the packing

# ---- the executable ----
[ -n "$bundle" ] || bundle="$repo/artifacts/gpu-bundle"
if [ -x "$bundle/vlmtune" ]; then
  VT=("$bundle/vlmtune")
elif command -v dotnet >/dev/null 2>&1 && [ -f "$repo/bench/VlmTune.GpuCheck/bin/Release/net10.0/VlmTune.GpuCheck.dll" ]; then
  VT=(dotnet "$repo/bench/VlmTune.GpuCheck/bin/Release/net10.0/VlmTune.GpuCheck.dll")
  bundle=""
else
  echo "run.sh: no bundle at $bundle/vlmtune (make it with bench/gpu/bundle.sh and carry artifacts/gpu-bundle)" >&2
  exit 2
fi
if [ -z "${PYTHON:-}" ]; then
  if [ -x /opt/torch/.venv/bin/python3 ]; then PYTHON=/opt/torch/.venv/bin/python3; else PYTHON=python3; fi
fi
export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 PYTHONUNBUFFERED=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
if [ "$simulate" = 1 ]; then export VLMTUNE_CUDA_SIMULATE=1; else unset VLMTUNE_CUDA_SIMULATE; fi
# cuBLAS is found by VlmTune's own search (VLMTUNE_CUDA_LIB_DIR, CUDA_HOME, /opt/*/.venv site-packages, ...): it is
# part of what this run checks, so nothing is set here.

# ---- what to run ----
STAGES=${STAGES:-"env gpucheck parity timing"}
want() { case " $STAGES " in *" $1 "*) return 0 ;; *) return 1 ;; esac; }
if [ "$simulate" = 1 ]; then
  MODELS=${MODELS:-tiny}; MODES=${MODES:-"qlora lora"}
  STEPS=${STEPS:-1}; WARMUP=${WARMUP:-1}
  if [ "$quick" = 1 ]; then gpucheck_budget=${GPUCHECK_BUDGET:-90}; else gpucheck_budget=${GPUCHECK_BUDGET:-300}; fi
else
  if [ "$quick" = 1 ]; then MODELS=${MODELS:-256m}; else MODELS=${MODELS:-"256m 500m 2.2b"}; fi
  MODES=${MODES:-"qlora lora"}
  if [ "$quick" = 1 ]; then STEPS=${STEPS:-2}; WARMUP=${WARMUP:-1}; gpucheck_budget=${GPUCHECK_BUDGET:-60}
  else STEPS=${STEPS:-3}; WARMUP=${WARMUP:-1}; gpucheck_budget=${GPUCHECK_BUDGET:-100}; fi
fi
batch_for() {
  case "$1" in
    tiny) echo "${BS:-${BS_TINY:-2}}" ;;
    256m) echo "${BS:-${BS_256M:-8}}" ;;
    500m) echo "${BS:-${BS_500M:-8}}" ;;
    2.2b) echo "${BS:-${BS_2B:-4}}" ;;
  esac
}
# Stage limits (seconds) per model: init, one VlmTune SFT run, the HF peer.
limits_for() {
  case "$1" in
    tiny) echo "60 600 60" ;;
    256m) echo "120 70 60" ;;
    500m) echo "180 80 70" ;;
    2.2b) echo "300 120 100" ;;
  esac
}

commit=$(cat "$bundle/COMMIT" 2>/dev/null || git -C "$repo" rev-parse HEAD 2>/dev/null || echo unknown)
gpu=$(nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader 2>/dev/null | head -n 1)
[ -n "$gpu" ] || gpu=$([ "$simulate" = 1 ] && echo "simulated (ILGPU CPU accelerator)" || echo "no nvidia-smi")
cat > "$work/meta.json" <<EOF
{"started": "$(date -u +%Y-%m-%dT%H:%M:%SZ)", "commit": "$commit", "mode": "$([ "$simulate" = 1 ] && echo simulate || echo gpu)",
 "quick": $([ "$quick" = 1 ] && echo true || echo false), "gpu": "$gpu", "budget_s": $budget, "models": "$MODELS", "modes": "$MODES",
 "steps": $STEPS, "warmup": $WARMUP, "executable": "${VT[*]}", "python": "$PYTHON", "host": "${HOSTNAME:-}", "nproc": $(nproc)}
EOF
echo "run.sh: $(cat "$work/meta.json" | tr -d '\n')"

# ---- stages: each time-boxed; one JSON line each in stages.jsonl ----
json_str() { printf '%s' "$1" | sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' | tr -d '\n\r'; }
# stage NAME LIMIT [key=value ...] -- command...   (keys: note, compare_json)
stage() {
  local name=$1 limit=$2; shift 2
  local extra=""
  while [ $# -gt 0 ] && [ "$1" != "--" ]; do
    extra="$extra, \"${1%%=*}\": \"$(json_str "${1#*=}")\""; shift
  done
  shift
  local now left
  now=$(date +%s); left=$((deadline - reserve - now))
  if [ "$left" -lt 5 ]; then
    echo "== $name: SKIPPED (deadline)"
    echo "{\"name\": \"$name\", \"rc\": null, \"seconds\": 0, \"skipped\": \"no time left before the deadline\"$extra}" >> "$work/stages.jsonl"
    return 99
  fi
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (limit ${limit} s): $*"
  local t0 t1 rc
  t0=$(date +%s.%N)
  timeout -k 10 "$limit" "$@" > "$logs/$name.log" 2>&1
  rc=$?
  t1=$(date +%s.%N)
  local secs timed_out=false
  secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.2f", b - a }')
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && timed_out=true
  tail -n 4 "$logs/$name.log" | sed 's/^/   | /'
  echo "   rc=$rc ${secs}s$([ "$timed_out" = true ] && echo ' TIMED OUT')"
  echo "{\"name\": \"$name\", \"rc\": $rc, \"seconds\": $secs, \"limit\": $limit, \"timed_out\": $timed_out, \"log\": \"$logs/$name.log\"$extra}" >> "$work/stages.jsonl"
  return "$rc"
}

# bg_start NAME LIMIT -- command...: the same, in the background (CPU-only work such as `init` while the GPU runs
# the parity tests); bg_wait NAME waits for it and writes its stages.jsonl line. Returns the command's rc.
declare -A bg_pid bg_t0 bg_limit
bg_start() {
  local name=$1 limit=$2; shift 3
  local left=$((deadline - reserve - $(date +%s)))
  [ "$limit" -gt "$left" ] && limit=$left
  echo "== $name (background, limit ${limit} s): $*"
  bg_t0[$name]=$(date +%s.%N); bg_limit[$name]=$limit
  timeout -k 10 "$limit" "$@" > "$logs/$name.log" 2>&1 &
  bg_pid[$name]=$!
}
bg_wait() {
  local name=$1 rc
  [ -n "${bg_pid[$name]:-}" ] || { echo "== $name: was not started"; return 98; }
  wait "${bg_pid[$name]}"; rc=$?
  local secs timed_out=false
  secs=$(awk -v a="${bg_t0[$name]}" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
  [ "$rc" = 124 ] || [ "$rc" = 137 ] && timed_out=true
  tail -n 2 "$logs/$name.log" | sed 's/^/   | /'
  echo "   $name: rc=$rc ${secs}s since its start$([ "$timed_out" = true ] && echo ' TIMED OUT')"
  echo "{\"name\": \"$name\", \"rc\": $rc, \"seconds\": $secs, \"limit\": ${bg_limit[$name]}, \"timed_out\": $timed_out, \"background\": true, \"log\": \"$logs/$name.log\"}" >> "$work/stages.jsonl"
  unset "bg_pid[$name]"
  return "$rc"
}

# Random-init checkpoints of the timed models, written in the background from the start (CPU only; single-threaded
# generation, ~8 CPU-seconds per 256M parameters measured on a dev machine).
for model in $MODELS; do
  { [ "$model" = tiny ] || ! want timing; } && continue
  read -r lim_init _ _ <<< "$(limits_for "$model")"
  lim_init=${INIT_LIMIT:-$lim_init}
  bg_start "init-$model" "$lim_init" -- "${VT[@]}" init --like "smolvlm-$model" --out "$work/models/$model" --seed 3 --force
done

# ---- 1. environment ----
if want env; then
stage env 30 -- "${VT[@]}" env
stage gpu-info 20 -- sh -c 'nvidia-smi || true; echo; ldconfig -p | grep -E "libcuda|cublas|nvrtc" || true;
  ls -d /opt/torch/.venv/lib/python3*/site-packages/nvidia/*/lib 2>/dev/null; echo "VLMTUNE_CUDA_LIB_DIR=${VLMTUNE_CUDA_LIB_DIR:-}"; uname -a; nproc; free -g'
if [ "$simulate" = 0 ]; then
  stage python-env 40 -- "$PYTHON" -c 'import torch, transformers, peft, safetensors; print("torch", torch.__version__, "cuda", torch.version.cuda, torch.cuda.is_available(), torch.cuda.get_device_name(0) if torch.cuda.is_available() else "-"); print("transformers", transformers.__version__, "peft", peft.__version__, "safetensors", safetensors.__version__)'
fi

fi

# ---- 2. the CUDA parity tests on the device ----
# One test past --test-timeout stops gpucheck (a hung kernel blocks the stream): 60 s on a GPU, where every test
# takes well under a second; the simulated model-parity tests take minutes.
if [ "$simulate" = 1 ]; then gc_device=sim; gc_timeout=${GPUCHECK_TEST_TIMEOUT:-240}; else gc_device=gpu; gc_timeout=${GPUCHECK_TEST_TIMEOUT:-60}; fi
want gpucheck && stage gpucheck $((gpucheck_budget + 30)) -- "${VT[@]}" gpucheck --device "$gc_device" --json "$work/gpucheck.json" \
  --exclude PtxGate --test-timeout "$gc_timeout" --budget "$gpucheck_budget"

# ---- 3. tiny-model logits parity: forward on cpu vs cuda ----
data="$work/data"
count=8
for model in $MODELS; do b=$(batch_for "$model"); [ "$b" -gt "$count" ] && count=$b; done
stage data 60 -- "${VT[@]}" bench-data --out "$data" --count "$count" --image-size 512 --seed 1
for dt in f32 bf16; do
  want parity || break
  m="$work/models/tiny-$dt"
  stage "init-tiny-$dt" 60 -- "${VT[@]}" init --like tiny --out "$m" --dtype "$dt" --seed 3 --force || continue
  img=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['image_token_id'])" "$m/config.json" 2>/dev/null || echo 0)
  cat > "$work/forward-$dt.json" <<EOF
{"input_ids": [[1, $img, 100, 200, 300, 17, 2], [1, $img, 400, 500, 600, 700, 800]],
 "attention_mask": [[1, 1, 1, 1, 1, 1, 0], [1, 1, 1, 1, 1, 1, 1]],
 "images": [["data/images/train-0000.png"], ["data/images/train-0001.png"]], "expand_images": true}
EOF
  stage "forward-tiny-$dt-cpu" 120 -- "${VT[@]}" forward --model "$m" --input "$work/forward-$dt.json" --out "$work/fwd-$dt-cpu.safetensors" --device cpu
  stage "forward-tiny-$dt-cuda" 300 -- "${VT[@]}" forward --model "$m" --input "$work/forward-$dt.json" --out "$work/fwd-$dt-cuda.safetensors" --device cuda
  # f32: accumulation order only (cuBLAS vs the CPU GEMM); bf16: bf16 rounding of activations on either side.
  if [ "$dt" = f32 ]; then tol=(--rtol 1e-3 --atol 1e-4); else tol=(--rtol 3e-2 --atol 1e-3); fi
  stage "parity-tiny-$dt" 60 compare_json="$work/compare-$dt.json" -- "${VT[@]}" compare "$work/fwd-$dt-cpu.safetensors" \
    "$work/fwd-$dt-cuda.safetensors" --tensor logits "${tol[@]}" --json "$work/compare-$dt.json"
done

# ---- 4. SFT step timing: VlmTune (qlora, lora) and the HF peer, per model ----
for model in $MODELS; do
  want timing || break
  read -r lim_init lim_sft lim_peer <<< "$(limits_for "$model")"
  bs=$(batch_for "$model")
  if [ "$model" = tiny ]; then
    dir="$work/models/tiny-f32"; recipe="$repo/recipes/tiny/sft.yaml"
    [ -f "$dir/config.json" ] || stage init-tiny 60 -- "${VT[@]}" init --like tiny --out "$dir" --dtype f32 --seed 3 --force
  else
    dir="$work/models/$model"; recipe="$repo/recipes/smolvlm-$model/qlora-sft.yaml"
    bg_wait "init-$model" || continue
    [ "$model" = 2.2b ] && stage "tokenizer-$model" 20 -- "${VT[@]}" bench-tokenizer --model "$dir"
  fi
  steps_total=$((WARMUP + STEPS))
  common=(--set "model.path=$dir" --set "data.train=$data/sft-train.jsonl" --set "train.max_steps=$steps_total"
          --set "train.batch_size=$bs" --set "train.grad_accum=1" --set "train.warmup_steps=0" --set "logging.every_steps=1"
          --set "checkpoint.every_steps=0" --set "seed=42")
  for s in ${SFT_SET:-}; do common+=(--set "$s"); done
  for mode in $MODES; do
    [ "$mode" = none ] && continue      # MODES=none: only the batch and the peer
    label="$model-$mode"; run="$work/runs/$label"
    q=true; [ "$mode" = lora ] && q=false
    stage "sft-$label" "$lim_sft" -- "${VT[@]}" sft "$recipe" --device cuda "${common[@]}" \
      --set "quantization.enabled=$q" --set "output.dir=$run"
    echo "{\"label\": \"$label\", \"impl\": \"vlmtune\", \"model\": \"$model\", \"mode\": \"$mode\", \"batch\": $bs, \"warmup\": $WARMUP, \"steps\": $STEPS, \"run_dir\": \"$run\", \"stage\": \"sft-$label\"}" >> "$work/configs.jsonl"
  done
  # The peer: bf16 base + LoRA/DoRA as the recipe says, on the batch VlmTune's trainer runs first.
  batch="$work/batches/$model.safetensors"
  stage "batch-$model" 90 -- "${VT[@]}" sft-batch "$recipe" "${common[@]}" --set "quantization.enabled=false" --out "$batch" || continue
  resolved="$work/runs/$model-lora/recipe.resolved.yaml"
  [ -f "$resolved" ] || resolved="$work/runs/$model-qlora/recipe.resolved.yaml"
  [ -f "$resolved" ] || resolved="$recipe"
  peer_args=(--model "$dir" --batch "$batch" --recipe "$resolved" --steps "$STEPS" --warmup "$WARMUP" --label "$model-lora" --out "$work/peer-$model.json")
  if [ "$simulate" = 1 ]; then peer_args+=(--dry-run); fi
  stage "hf-peer-$model" "$lim_peer" -- "$PYTHON" "$here/hf_peer.py" "${peer_args[@]}" --verbose
  echo "{\"label\": \"$model-lora\", \"impl\": \"hf\", \"model\": \"$model\", \"mode\": \"lora\", \"batch\": $bs, \"warmup\": $WARMUP, \"steps\": $STEPS, \"peer_json\": \"$work/peer-$model.json\", \"stage\": \"hf-peer-$model\"}" >> "$work/configs.jsonl"
done

# ---- 5. summary and packing (≤ 8 files come back) ----
for name in "${!bg_pid[@]}"; do kill "${bg_pid[$name]}" 2>/dev/null; bg_wait "$name"; done
"$PYTHON" "$here/summarize.py" "$work" "$out" || python3 "$here/summarize.py" "$work" "$out" || echo "run.sh: summarize failed" >&2
[ -f "$work/gpucheck.json" ] && cp "$work/gpucheck.json" "$out/gpucheck.json"
(
  cd "$work" && find . \( -name '*.log' -o -name 'metrics.jsonl' -o -name 'recipe.resolved.yaml' -o -name '*.json' -o -name '*.jsonl' \) \
    -not -path './models/*' -not -path './data/*' -size -8M -print0 | tar --null -czf "$out/logs.tgz" -T - 2>/dev/null
)
echo "run.sh: done in $(( $(date +%s) - t_start )) s; $out: $(ls "$out" | tr '\n' ' ')"
sleep 1     # let tee write the last lines of run.log
