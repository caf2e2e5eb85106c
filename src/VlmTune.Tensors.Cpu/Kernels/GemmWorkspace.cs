using System.Runtime.InteropServices;
using static VlmTune.Tensors.Cpu.Kernels.GemmBlocking;

namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>
/// Pack buffers for one GEMM call: one shared packed-B block (KC×NC floats, 4 MiB) and one packed-A block
/// (MC×KC floats, 120 KiB) per participating thread, all 64-byte aligned native memory. Workspaces are
/// rented from a small process-wide pool and returned after the call, so steady-state calls allocate nothing;
/// the pool only grows to the number of calls that ever ran at the same time, and its memory lives as long
/// as the process (no finalizers).
/// </summary>
internal sealed unsafe class GemmWorkspace
{
    private static readonly Stack<GemmWorkspace> s_free = new();
    private static readonly object s_freeGate = new();

    private nint[] _packedA = [];

    /// <summary>Shared packed-B block: KC×NC floats.</summary>
    public float* PackedB { get; }

    /// <summary>Next unclaimed work item of the current (jc, pc) block; threads claim with Interlocked.</summary>
    public int NextItem;

    private GemmWorkspace()
    {
        // SAFETY: owned native memory, never freed (the pool keeps every workspace for the process lifetime).
        PackedB = (float*)NativeMemory.AlignedAlloc((nuint)(KC * NC * sizeof(float)), 64);
    }

    /// <summary>Packed-A block of thread <paramref name="tid"/>: MC×KC floats (+ PackSlack).</summary>
    public float* PackedA(int tid) => (float*)_packedA[tid];

    public static GemmWorkspace Rent(int threads)
    {
        GemmWorkspace? ws = null;
        lock (s_freeGate)
        {
            if (s_free.Count > 0) ws = s_free.Pop();
        }
        ws ??= new GemmWorkspace();
        ws.EnsureThreads(threads);
        ws.NextItem = 0;
        return ws;
    }

    public static void Return(GemmWorkspace ws)
    {
        lock (s_freeGate) s_free.Push(ws);
    }

    private void EnsureThreads(int threads)
    {
        if (_packedA.Length >= threads) return;
        // SAFETY: as for PackedB; the slack lets the vector A packer spill past the last panel.
        var grown = new nint[threads];
        Array.Copy(_packedA, grown, _packedA.Length);
        for (int t = _packedA.Length; t < threads; t++)
            grown[t] = (nint)NativeMemory.AlignedAlloc((nuint)((MC * KC + PackSlack) * sizeof(float)), 64);
        _packedA = grown;
    }
}
