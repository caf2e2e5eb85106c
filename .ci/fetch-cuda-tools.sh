#!/usr/bin/env bash
# Fetches NVIDIA's CUDA 11.8 tools and libraries from Debian's non-free component WITHOUT installing anything
# system-wide (shared/spec/cuda.md §3): ptxas / cuobjdump (nvidia-cuda-toolkit) for the PTX gate, and libcublas /
# libcublasLt / libcudart (11.x) for the cuBLAS binding test, and the driver's libcuda.so.1 (libcuda1, in
# ROOT/usr/lib/x86_64-linux-gnu/nvidia/current) for the driver binding test: with no GPU it loads, reports its version
# and returns CUDA_ERROR_NO_DEVICE from cuInit. No GPU is needed for any of them.
#
# The package source is derived from this machine's own apt configuration (its `Components: main` line becomes
# `main non-free`); no registry host is written here. Packages are unpacked with dpkg -x into $DIR/root.
#
# Usage: .ci/fetch-cuda-tools.sh [DIR]   (default: $VLMTUNE_CUDA_TOOLS or ~/.cache/vlmtune/cuda-tools)
# Prints DIR/root on success; idempotent (DIR/.done). Exit ≠ 0 with a reason on failure — callers must fail loudly.
set -euo pipefail
dir=${1:-${VLMTUNE_CUDA_TOOLS:-$HOME/.cache/vlmtune/cuda-tools}}
packages=(nvidia-cuda-toolkit libcublas11 libcublaslt11 libcudart11.0 libcuda1)
stamp="$dir/.done"
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "${packages[*]}" ] && [ -x "$dir/root/usr/bin/ptxas" ]; then
  echo "$dir/root"; exit 0
fi
src=/etc/apt/sources.list.d/debian.sources
if [ ! -f "$src" ]; then
  echo "fetch-cuda-tools: $src not found: cannot derive Debian's non-free source on this machine" >&2; exit 2
fi
mkdir -p "$dir"
tmp=$(mktemp -d "$dir/tmp.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/sources" "$tmp/lists/partial" "$tmp/cache/archives/partial" "$tmp/debs"
sed -E 's/^Components:[[:space:]]*main([[:space:]]|$)/Components: main non-free\1/' "$src" > "$tmp/sources/debian.sources"
grep -q 'non-free' "$tmp/sources/debian.sources" || { echo "fetch-cuda-tools: no 'Components: main' line in $src" >&2; exit 2; }
apt_opts=(-o Dir::Etc::SourceList=/dev/null -o Dir::Etc::SourceParts="$tmp/sources" -o Dir::State::Lists="$tmp/lists"
          -o Dir::Cache="$tmp/cache" -o Debug::NoLocking=1 -o APT::Sandbox::User=root)
echo "fetch-cuda-tools: apt-get update (non-free lists into $tmp)" >&2
apt-get "${apt_opts[@]}" -qq update >&2
( cd "$tmp/debs" && apt-get "${apt_opts[@]}" -qq download "${packages[@]}" >&2 )
rm -rf "$dir/root.new" && mkdir -p "$dir/root.new"
for deb in "$tmp"/debs/*.deb; do dpkg -x "$deb" "$dir/root.new"; done
[ -x "$dir/root.new/usr/bin/ptxas" ] || { echo "fetch-cuda-tools: ptxas missing from the unpacked toolkit" >&2; exit 3; }
rm -rf "$dir/root" && mv "$dir/root.new" "$dir/root"
echo "${packages[*]}" > "$stamp"
echo "$dir/root"
