using System.Runtime.CompilerServices;
using static VlmTune.Tensors.Cpu.Kernels.GemmBlocking;

namespace VlmTune.Tensors.Cpu.Kernels;

// Loop nest (Goto/BLIS), per call:
//   for jc over N in NC columns:                     B block (kc×nc) packed once, shared by all threads
//     for pc over K in KC:                             threads pack disjoint w-column panels, then a barrier
//       for each work item (ic, chunk), claimed:       ic = an mc-row block of A, chunk = a run of B panels
//         pack op(A)[ic rows, pc..pc+kc) · alpha      (per thread; reused while ic repeats)
//         for jr over the chunk's B panels:            one w-column panel of B (w = 16 or 32) stays in L1
//           for ir over mc in MR:                      6×w micro-tile of C
//       barrier (nobody may repack B while another thread still reads it)
// Large M: the items are the mc-row blocks (their count rounded to a multiple of the thread count).
// Small M (one block, e.g. decode with M = 1): each row block is split into `threads` chunks of columns.

/// <summary>The threaded driver of one GEMM call: every participating thread runs <see cref="Run"/>.</summary>
internal static unsafe class GemmDriver
{
    /// <summary>Thread <paramref name="tid"/>'s share of the call. K &gt; 0, M &gt; 0 and N &gt; 0.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    public static void Run(in GemmProblem p, GemmWorkspace ws, int tid, int threads, GemmBarrier barrier)
    {
        if (GemmSmallM.Applies(p))
        {
            GemmSmallM.Run(p, tid, threads);   // no packing, no barrier: disjoint columns per thread
            return;
        }
        GemmKernelKind kernel = p.Kernel;
        int width = GemmMicroKernel.Width(kernel);
        int mc = BlockRows(p.M, threads);
        int rowBlocks = CeilDiv(p.M, mc);
        float* packedA = ws.PackedA(tid);

        // Equal-sized blocks, no thin leftover at the end of N or K: K = 576 → 3×192 (not 256+256+64).
        // With a single row block (small M) nothing amortises over a wide B block: keep it L2-sized instead.
        int ncMax = rowBlocks == 1 ? NCSmallM : NC;
        int ncStep = CeilDiv(CeilDiv(p.N, CeilDiv(p.N, ncMax)), width) * width;
        int kcStep = CeilDiv(p.K, CeilDiv(p.K, KC));

        for (int jc = 0; jc < p.N; jc += ncStep)
        {
            int nc = Math.Min(ncStep, p.N - jc);
            int panels = CeilDiv(nc, width);
            int chunks = rowBlocks % threads == 0 ? 1 : Math.Min(threads, panels);
            int items = rowBlocks * chunks;

            for (int pc = 0; pc < p.K; pc += kcStep)
            {
                int kc = Math.Min(kcStep, p.K - pc);
                bool addC = pc > 0 || p.Accumulate;

                (int packBegin, int packEnd) = Split(panels, threads, tid);
                GemmPacking.PackB(p, pc, kc, jc, nc, packBegin, packEnd, width, ws.PackedB);
                barrier.SignalAndWait();

                int packedBlock = -1;
                int item;
                while ((item = Interlocked.Increment(ref ws.NextItem) - 1) < items)
                {
                    int block = item / chunks;
                    int i0 = block * mc;
                    int rows = Math.Min(mc, p.M - i0);
                    if (block != packedBlock)
                    {
                        GemmPacking.PackA(p, i0, rows, pc, kc, packedA);
                        packedBlock = block;
                    }
                    (int panelBegin, int panelEnd) = Split(panels, chunks, item % chunks);
                    // SAFETY: i0 < M and jc < N, so the tile origin lies inside C.
                    float* c = p.C + (long)i0 * p.Ldc + jc;
                    MacroKernel(kernel, packedA, rows, ws.PackedB, kc, panelBegin, panelEnd, nc, c, p.Ldc, addC);
                }

                barrier.SignalAndWait();
                // Safe: no thread claims again before the next first barrier, which thread 0 reaches after this.
                if (tid == 0) ws.NextItem = 0;
            }
        }
    }

    /// <summary>C block (rows × nc at c) (+)= packed A block · packed B panels [panelBegin, panelEnd).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)] // hot: skip tier-0 code
    private static void MacroKernel(GemmKernelKind kernel, float* packedA, int rows, float* packedB, int kc,
        int panelBegin, int panelEnd, int nc, float* c, long ldc, bool addC)
    {
        // SAFETY: panel jp starts at jp*kc*width inside the packed-B block; row panel ir at ir*kc inside packed
        // A; tiles are clipped to rows × nc, which lie inside C.
        int width = GemmMicroKernel.Width(kernel);
        for (int jp = panelBegin; jp < panelEnd; jp++)
        {
            float* b = packedB + (long)jp * kc * width;
            int col = jp * width;
            int nr = Math.Min(width, nc - col);
            for (int ir = 0; ir < rows; ir += MR)
            {
                int mr = Math.Min(MR, rows - ir);
                float* a = packedA + (long)ir * kc;
                float* tile = c + ir * ldc + col;
                if (mr == MR && nr == width)
                    GemmMicroKernel.Tile(kernel, kc, a, b, tile, ldc, addC);
                else
                    GemmMicroKernel.EdgeTile(kernel, kc, a, b, tile, ldc, addC, mr, nr);
            }
        }
    }

    /// <summary>
    /// Rows per A block: at most MC, a multiple of MR, and chosen so the block count is a multiple of the
    /// thread count (M = 2048, 2 threads → 18 blocks of 114 rows instead of 17 of 120 plus one of 8).
    /// </summary>
    internal static int BlockRows(int M, int threads)
    {
        int blocks = CeilDiv(M, MC);
        if (threads > 1 && blocks > 1) blocks = CeilDiv(blocks, threads) * threads;
        return CeilDiv(CeilDiv(M, blocks), MR) * MR;
    }

    /// <summary>Part <paramref name="index"/> of <paramref name="count"/> near-equal parts of [0, total).</summary>
    private static (int Begin, int End) Split(int total, int count, int index) =>
        ((int)((long)total * index / count), (int)((long)total * (index + 1) / count));

    private static int CeilDiv(int a, int b) => (a + b - 1) / b;
}
