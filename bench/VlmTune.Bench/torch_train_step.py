#!/usr/bin/env python3
"""PyTorch CPU twin of `VlmTune.Bench train-step`: one forward+backward step of a 2-layer Llama block with
SmolVLM-256M text shapes (d=576, 9/3 heads of 64, SwiGLU 1536, RoPE theta 1e5, RMSNorm eps 1e-5, causal), f32,
every weight trainable, loss = mean(x^2). Prints the same line format as the C# benchmark, plus the allocator and
the BLAS core this process runs with (bench/cpu-speed.sh runs it as the environment leaves it and tuned).

    apt-get install -y python3-torch libopenblas0-pthread libjemalloc2   # Debian's PyTorch (bookworm: 1.13)
    /usr/bin/python3 bench/VlmTune.Bench/torch_train_step.py --seq 1024 --threads 2
    # tuned: OpenBLAS's own kernels, jemalloc without returning memory to the OS between steps, and torch's OpenMP
    # threads sleeping (not spinning) between parallel regions, so they leave the cores to OpenBLAS's own threads
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE LD_PRELOAD=libjemalloc.so.2 \
        MALLOC_CONF=dirty_decay_ms:-1,muzzy_decay_ms:-1 OMP_WAIT_POLICY=PASSIVE /usr/bin/python3 bench/VlmTune.Bench/torch_train_step.py
"""
import argparse, ctypes, os, time
import torch
import torch.nn.functional as F

D, H, KV, HD, FFN, LAYERS = 576, 9, 3, 64, 1536, 2


def rms_norm(x, w, eps=1e-5):
    return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps) * w


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    rot = torch.cat((-x[..., half:], x[..., :half]), dim=-1)
    return x * cos + rot * sin


def layer(x, p, cos, sin, mask):
    b, t, _ = x.shape
    h = rms_norm(x, p["ln1"])
    q = F.linear(h, p["wq"]).view(b, t, H, HD).transpose(1, 2)
    k = F.linear(h, p["wk"]).view(b, t, KV, HD).transpose(1, 2)
    v = F.linear(h, p["wv"]).view(b, t, KV, HD).transpose(1, 2)
    q, k = rope(q, cos, sin), rope(k, cos, sin)
    k = k.repeat_interleave(H // KV, dim=1)
    v = v.repeat_interleave(H // KV, dim=1)
    s = q @ k.transpose(-1, -2) * HD ** -0.5 + mask
    a = (torch.softmax(s, dim=-1) @ v).transpose(1, 2).reshape(b, t, D)
    x = x + F.linear(a, p["wo"])
    h = rms_norm(x, p["ln2"])
    return x + F.linear(F.silu(F.linear(h, p["wg"])) * F.linear(h, p["wu"]), p["wd"])


def runtime_setup():
    """'allocator=jemalloc(MALLOC_CONF) blas=<file>:<core>' for the libraries actually mapped into this process."""
    maps = open("/proc/self/maps").read().split("\n")
    libs = {line.split()[-1] for line in maps if ".so" in line}
    jemalloc = any("libjemalloc" in lib for lib in libs)
    allocator = f"jemalloc({os.environ.get('MALLOC_CONF', 'default')})" if jemalloc else \
        f"glibc({os.environ.get('GLIBC_TUNABLES', 'default')})"
    blas = "unknown"
    for lib in sorted(libs):
        name = os.path.basename(lib)
        if name.startswith(("libblas", "libopenblas")):
            try:
                core = ctypes.CDLL(lib).openblas_get_corename
                core.restype = ctypes.c_char_p
                blas = f"{lib}:{core().decode()}"
            except (OSError, AttributeError):
                blas = f"{lib}:not-openblas"
            break
    env = " ".join(f"{v}={os.environ.get(v, 'unset')}" for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE", "OMP_WAIT_POLICY"))
    return f"allocator={allocator} blas={blas} {env}"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--seq", type=int, default=1024)
    ap.add_argument("--steps", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    a = ap.parse_args()
    torch.set_num_threads(a.threads)
    torch.manual_seed(0)

    def w(o, i):
        return (torch.randn(o, i) * 0.02).requires_grad_()

    layers = [dict(ln1=torch.ones(D, requires_grad=True), ln2=torch.ones(D, requires_grad=True),
                   wq=w(D, D), wk=w(KV * HD, D), wv=w(KV * HD, D), wo=w(D, D),
                   wg=w(FFN, D), wu=w(FFN, D), wd=w(D, FFN)) for _ in range(LAYERS)]
    x0 = torch.randn(1, a.seq, D)
    inv = 1.0 / (1e5 ** (torch.arange(0, HD, 2, dtype=torch.int64).float() / HD))
    freqs = torch.outer(torch.arange(a.seq).float(), inv)
    emb = torch.cat((freqs, freqs), dim=-1)
    cos, sin = emb.cos(), emb.sin()
    mask = torch.full((a.seq, a.seq), float("-inf")).triu(1)

    def step():
        t0 = time.perf_counter()
        x = x0
        for p in layers:
            x = layer(x, p, cos, sin, mask)
        loss = x.pow(2).mean()
        loss.backward()
        for p in layers:
            for t in p.values():
                t.grad = None
        return time.perf_counter() - t0

    for _ in range(2):
        step()
    times = sorted(step() for _ in range(a.steps))
    med = times[len(times) // 2]
    print(f"torch-train-step layers={LAYERS} d={D} heads={H}/{KV} seq={a.seq} threads={a.threads} "
          f"step_ms={med * 1000:.1f} tokens_per_s={a.seq / med:.0f} torch={torch.__version__} {runtime_setup()}")


if __name__ == "__main__":
    main()
