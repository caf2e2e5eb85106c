#!/usr/bin/env bash
# Learning benchmark (issue 15): for each synthetic task of `VlmTune.Bench learn-data` (tasks that differ from the
# demo's), run the tiny pipeline — init a random tiny base → QLoRA SFT (recipes/tiny/sft.yaml) → eval → merge as
# trained → DPO (recipes/tiny/dpo.yaml, reference = the SFT model) → eval — and print held-out accuracy per task and
# stage with wall times. Accuracy is `vlmtune eval`'s normalised match of the greedy answer to the last assistant turn
# (for the two-turn "bars" task that is the second question).
#
#   bash bench/learn.sh [WORKDIR]                       # all tasks, 1,200 conversations / 600 pairs / 200 held out each
#   TASKS="grid bars" TRAIN=400 bash bench/learn.sh     # a subset, smaller
#   SFT_SET="train.max_steps=20" DPO_SET="train.max_steps=3" bash bench/learn.sh   # a smoke run
#
# Environment: TASKS, TRAIN, EVAL, PAIRS, SEED, SFT_SET / DPO_SET (space-separated key=value overrides for the recipes).
# Needs jq (Debian `jq`) to read eval summaries.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(realpath -m "${1:-runs/learn}")
tasks=${TASKS:-quadrant grid bars sizes}
train=${TRAIN:-1200} eval_n=${EVAL:-200} pairs=${PAIRS:-600} seed=${SEED:-1}
command -v jq >/dev/null || { echo "bench/learn.sh: needs jq (apt-get install jq)" >&2; exit 2; }

dotnet build -c Release src/VlmTune.Cli -v q -nologo >/dev/null
dotnet build -c Release bench/VlmTune.Bench -v q -nologo >/dev/null
vt() { dotnet src/VlmTune.Cli/bin/Release/net10.0/vlmtune.dll "$@"; }
sets() { for kv in $1; do printf -- '--set\n%s\n' "$kv"; done; }
accuracy() { jq -r '.normalized_match' "$1/summary.json"; }

mkdir -p "$work"
rows=()
for task in $tasks; do
  dir="$work/$task"
  rm -rf "$dir" && mkdir -p "$dir"
  dotnet bench/VlmTune.Bench/bin/Release/net10.0/VlmTune.Bench.dll learn-data --out "$work/data" --task "$task" \
    --seed "$seed" --train "$train" --eval "$eval_n" --pairs "$pairs" | tee "$dir/task.txt"
  data="$work/data/$task"
  vt init --like tiny --out "$dir/base" --force --seed "$seed" --dtype f32 >/dev/null
  vt eval --model "$dir/base" --data "$data/sft-eval.jsonl" --out "$dir/eval-base" --max-new-tokens 12 >/dev/null 2>&1
  t0=$SECONDS
  mapfile -t extra < <(sets "${SFT_SET:-}")
  vt sft recipes/tiny/sft.yaml --set "model.path=$dir/base" --set "data.train=$data/sft-train.jsonl" \
    --set "output.dir=$dir/sft" --set "seed=$seed" --set logging.progress=none "${extra[@]}" >"$dir/sft.log" 2>&1
  sft_s=$((SECONDS - t0))
  vt eval --model "$dir/base" --adapter "$dir/sft/adapter" --data "$data/sft-eval.jsonl" --out "$dir/eval-sft" --max-new-tokens 12 >/dev/null 2>&1
  vt merge --model "$dir/base" --adapter "$dir/sft/adapter" --out "$dir/sft-merged" --dtype f32 --force >/dev/null 2>&1
  t0=$SECONDS
  mapfile -t extra < <(sets "${DPO_SET:-}")
  vt dpo recipes/tiny/dpo.yaml --set "model.path=$dir/sft-merged" --set "data.train=$data/dpo-train.jsonl" \
    --set "output.dir=$dir/dpo" --set "seed=$seed" --set logging.progress=none "${extra[@]}" >"$dir/dpo.log" 2>&1
  dpo_s=$((SECONDS - t0))
  vt eval --model "$dir/sft-merged" --adapter "$dir/dpo/adapter" --data "$data/sft-eval.jsonl" --out "$dir/eval-dpo" --max-new-tokens 12 >/dev/null 2>&1
  rows+=("$(printf '%-9s %8s %8s %8s %7ss %7ss' "$task" "$(accuracy "$dir/eval-base")" "$(accuracy "$dir/eval-sft")" \
    "$(accuracy "$dir/eval-dpo")" "$sft_s" "$dpo_s")")
done

echo
printf '%-9s %8s %8s %8s %8s %8s\n' task base sft dpo sft_time dpo_time
for r in "${rows[@]}"; do echo "$r"; done
