#!/usr/bin/env bash
# Resume check (issue 6): start an SFT run, kill -9 it at a random moment, let `vlmtune sft` auto-resume from the
# latest checkpoint in the run directory, and compare the final adapter bytes with an uninterrupted run.
#   bash bench/resume-trials.sh [TRIALS]      (default 5; needs `dotnet build -c Release src/VlmTune.Cli` first)
set -euo pipefail
cd "$(dirname "$0")/.."
trials=${1:-5}
vlmtune=${VLMTUNE:-src/VlmTune.Cli/bin/Release/net10.0/vlmtune}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
args=(recipes/tiny/sft.yaml
  --set "model.path=$PWD/tests/fixtures/model/tiny" --set "data.train=$PWD/tests/fixtures/data/sft.jsonl"
  --set train.max_steps=120 --set train.batch_size=2 --set checkpoint.every_steps=7 --set checkpoint.keep_last=2
  --set logging.every_steps=1000)
"$vlmtune" sft "${args[@]}" --set "output.dir=$work/straight" > /dev/null
reference="$work/straight/adapter/adapter_model.safetensors"
ok=0
for t in $(seq 1 "$trials"); do
  out="$work/trial-$t"
  "$vlmtune" sft "${args[@]}" --set "output.dir=$out" > "$out.log" 2>&1 &
  pid=$!
  delay=$(awk -v s="$RANDOM" 'BEGIN { srand(s); printf "%.2f", 1.0 + rand() * 4.0 }')
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  last=$(ls "$out/checkpoints" 2>/dev/null | grep -v tmp | tail -n 1 || true)
  "$vlmtune" sft "${args[@]}" --set "output.dir=$out" > "$out.resume.log" 2>&1
  resumed=$(grep -o "resumed from .* at step [0-9]*" "$out.resume.log" | grep -o "[0-9]*$" || echo "none")
  if cmp -s "$reference" "$out/adapter/adapter_model.safetensors"; then
    ok=$((ok + 1)); verdict=identical
  else
    verdict=DIFFERENT
  fi
  echo "trial $t: killed after ${delay}s (latest checkpoint ${last:-none}), resumed at step $resumed → adapter $verdict"
done
echo "$ok of $trials resumed runs ended with byte-identical adapters"
[ "$ok" -eq "$trials" ]
