#!/usr/bin/env bash
# Builds what bench/gpu/run.sh needs on the GPU machine (no .NET there): ONE self-contained single-file linux-x64
# executable `vlmtune` = bench/VlmTune.GpuCheck, which is every `vlmtune` verb (src/VlmTune.Cli's Program.Main) plus
# the hidden verbs gpucheck / ptx / bench-data / bench-tokenizer / sft-batch / compare, with the CUDA parity test
# assembly inside. One executable carries one .NET runtime: two single-file apps would be ~2 × 40 MB, over the
# device tool's 64 MiB (the whole working tree travels too). Untrimmed (spec/cuda.md §2: trimming ILGPU needs care).
#
#   bench/gpu/bundle.sh [OUT_DIR]          # default: artifacts/gpu-bundle (ignored by git: carry it)
#   bench/gpu/bundle.sh --check [OUT_DIR]  # also: start it with no .NET visible, in simulation
#
# Then, on the device tool: carry ["artifacts/gpu-bundle"], command `bash bench/gpu/run.sh`.
set -euo pipefail
cd "$(dirname "$0")/../.."

check=0
if [ "${1:-}" = "--check" ]; then check=1; shift; fi
out="${1:-artifacts/gpu-bundle}"
limit_mib=${BUNDLE_LIMIT_MIB:-45}    # the tree (~17 MiB now) travels with it: 64 MiB in all

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
rm -rf "$out"
mkdir -p "$out"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# The publish settings (linux-x64, self-contained, single file, compressed, untrimmed, embedded PDBs) are in the
# project under VlmTuneBundle=true; see the comment there for why they are not command-line options.
# DebugType=embedded for every project (a global property): portable PDBs inside the bundled assemblies, so stack
# traces from the GPU machine carry file:line (PDB files beside a single-file app are not read).
if ! dotnet publish bench/VlmTune.GpuCheck/VlmTune.GpuCheck.csproj -c Release -p:VlmTuneBundle=true -p:DebugType=embedded \
     -o "$tmp/publish" > "$tmp/publish.log" 2>&1; then
  grep -E 'error|warning' "$tmp/publish.log" | sort -u | head -n 20 >&2
  tail -n 5 "$tmp/publish.log" >&2
  echo "bundle: dotnet publish failed" >&2
  exit 1
fi

exe="$tmp/publish/VlmTune.GpuCheck"
[ -x "$exe" ] || { echo "bundle: $exe was not produced" >&2; ls -la "$tmp/publish" >&2; exit 1; }
# Beside the single file, publish leaves what the two referenced executables (src/VlmTune.Cli, the test project)
# bring: their apphosts, runtimeconfig/deps files and PDBs. The single file holds their assemblies; none is needed.
cp "$exe" "$out/vlmtune"
git rev-parse HEAD > "$out/COMMIT" 2>/dev/null || echo unknown > "$out/COMMIT"
{ git status --porcelain --untracked-files=no 2>/dev/null | head -n 20; } > "$out/DIRTY" || true
date -u +%Y-%m-%dT%H:%M:%SZ > "$out/BUILT"

bytes=$(du -cb "$out"/* | tail -n 1 | cut -f1)
mib=$(awk -v b="$bytes" 'BEGIN { printf "%.1f", b / 1048576 }')
echo "bundle: $out: $(ls "$out" | tr '\n' ' ')— $bytes bytes ($mib MiB; limit $limit_mib MiB)"
if [ "$bytes" -gt $((limit_mib * 1048576)) ]; then
  echo "bundle: too large for the device tool with the working tree beside it" >&2
  exit 1
fi

if [ "$check" = 1 ]; then
  # No .NET visible: a tmpfs over the SDK's folder and a clean environment; simulation mode, CPU accelerator.
  dotnet_root=$(dirname "$(readlink -f "$(command -v dotnet)")")
  abs=$(readlink -f "$out")
  work=$(mktemp -d)
  echo "bundle: check with $dotnet_root hidden, in $work"
  unshare -m sh -c "mount -t tmpfs none '$dotnet_root' && cd '$work' && \
    env -i PATH=/usr/bin:/bin HOME='$work' VLMTUNE_CUDA_SIMULATE=1 '$abs/vlmtune' --version && \
    env -i PATH=/usr/bin:/bin HOME='$work' '$abs/vlmtune' init --like tiny --out tiny && \
    { env -i PATH=/usr/bin:/bin HOME='$work' VLMTUNE_CUDA_SIMULATE=1 '$abs/vlmtune' gpucheck --device sim --filter CopyTests --json gc.json; \
      rc=\$?; [ \$rc -le 1 ] || { echo \"gpucheck ended with \$rc (not a test verdict)\"; exit 1; }; } && \
    echo \"entries visible in $dotnet_root: \$(ls -A '$dotnet_root' | wc -l)\""
  rc=$?
  rm -rf "$work"
  [ "$rc" = 0 ] || { echo "bundle: check FAILED" >&2; exit 1; }
  echo "bundle: check passed (gpucheck exit 1 = some test failed: a backend verdict, not a bundle problem)"
fi
