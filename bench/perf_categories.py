#!/usr/bin/env python3
"""Groups a `perf record` profile of a VlmTune run into the categories of issue 14's profile tables.

    DOTNET_EnableWriteXorExecute=0 DOTNET_PerfMapEnabled=1 perf record -F 99 -g -o run.data \\
        src/VlmTune.Cli/bin/Release/net10.0/vlmtune sft RECIPE --set ...
    /usr/bin/python3 bench/perf_categories.py run.data [SECONDS]

(W^X off and the perf map on let perf name the JIT-compiled methods.) Prints one markdown row per category: the share of
all samples and, given the run's wall SECONDS, that share of them. The shares cover the whole process (loading and
quantising the checkpoint included), so compare runs of the same command. Kernel time is nearly all page faults of fresh
buffers (first touch of new pinned arrays) plus scheduler work.
"""
import collections
import re
import subprocess
import sys


def category(dso, sym):
    if dso == "[kernel]":
        return "kernel: page faults, scheduling"
    rules = [
        (("GemmMicroKernel", "GemmDriver", "GemmThreads", "GemmSmallM"), "GEMM micro-kernel"),
        (("GemmPacking", "GemmTranspose"), "GEMM packing"),
        (("Attention",), "attention (softmax, masks)"),
        (("Dropout", "Philox"), "dropout (Philox)"),
        (("Dequant",), "4-bit dequantise"),
        (("Norm",), "layer/RMS norm"),
        (("Rope",), "RoPE"),
        (("memmove", "Memmove", "memset", "Copy"), "copies, clears"),
        (("TensorPrimitives", "Binary", "Unary", "SumF32", "tanh", "expm1", "expf", "VectorMath"), "elementwise, reductions"),
    ]
    for keys, name in rules:
        if any(k in sym for k in keys):
            return name
    if "libcoreclr" in dso or "libclrjit" in dso or "System.Private.CoreLib" in sym or "sched_yield" in sym or "futex" in sym:
        return "runtime: GC, JIT, threads"
    return "other"


def main():
    if len(sys.argv) < 2:
        sys.exit("usage: perf_categories.py PERF.DATA [SECONDS]")
    report = subprocess.run(["perf", "report", "-i", sys.argv[1], "--no-children", "--sort", "dso,symbol", "--stdio", "-g", "none"],
                            capture_output=True, text=True, check=True).stdout
    shares, total = collections.Counter(), 0.0
    for line in report.splitlines():
        m = re.match(r"\s+([\d.]+)%\s+(.+?)\s+\[(.)\]\s+(.*)", line)
        if not m:
            continue
        share, dso, kind, sym = float(m.group(1)), m.group(2), m.group(3), m.group(4)
        shares[category("[kernel]" if kind == "k" else dso, sym)] += share
        total += share
    seconds = float(sys.argv[2]) if len(sys.argv) > 2 else None
    for name, share in shares.most_common():
        print(f"| {name} | {share:.1f} % |" + (f" {share / 100 * seconds:.1f} s |" if seconds else ""))
    print(f"| all samples | {total:.1f} % |")


if __name__ == "__main__":
    main()
