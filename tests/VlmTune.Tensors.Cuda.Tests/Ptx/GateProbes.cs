using ILGPU;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>
/// Kernels that exist only to test the gate itself (they live in the test assembly, so <c>KernelCatalog.All()</c>
/// never lists them): one that needs many registers (it must spill under <c>--maxrregcount</c>) and one with static
/// shared memory (ptxas must report its smem).
/// </summary>
public static class GateProbes
{
    /// <summary>40 values stay live across a loop of runtime length: needs well over 24 registers.</summary>
    public static void Pressure(ArrayView<float> x, ArrayView<float> y, int rounds)
    {
        int b = Grid.GlobalIndex.X * 40;
        float v0 = x[b + 0];
        float v1 = x[b + 1];
        float v2 = x[b + 2];
        float v3 = x[b + 3];
        float v4 = x[b + 4];
        float v5 = x[b + 5];
        float v6 = x[b + 6];
        float v7 = x[b + 7];
        float v8 = x[b + 8];
        float v9 = x[b + 9];
        float v10 = x[b + 10];
        float v11 = x[b + 11];
        float v12 = x[b + 12];
        float v13 = x[b + 13];
        float v14 = x[b + 14];
        float v15 = x[b + 15];
        float v16 = x[b + 16];
        float v17 = x[b + 17];
        float v18 = x[b + 18];
        float v19 = x[b + 19];
        float v20 = x[b + 20];
        float v21 = x[b + 21];
        float v22 = x[b + 22];
        float v23 = x[b + 23];
        float v24 = x[b + 24];
        float v25 = x[b + 25];
        float v26 = x[b + 26];
        float v27 = x[b + 27];
        float v28 = x[b + 28];
        float v29 = x[b + 29];
        float v30 = x[b + 30];
        float v31 = x[b + 31];
        float v32 = x[b + 32];
        float v33 = x[b + 33];
        float v34 = x[b + 34];
        float v35 = x[b + 35];
        float v36 = x[b + 36];
        float v37 = x[b + 37];
        float v38 = x[b + 38];
        float v39 = x[b + 39];
        for (int r = 0; r < rounds; r++)
        {
            v0 = v0 * v1 + v39;
            v1 = v1 * v2 + v0;
            v2 = v2 * v3 + v1;
            v3 = v3 * v4 + v2;
            v4 = v4 * v5 + v3;
            v5 = v5 * v6 + v4;
            v6 = v6 * v7 + v5;
            v7 = v7 * v8 + v6;
            v8 = v8 * v9 + v7;
            v9 = v9 * v10 + v8;
            v10 = v10 * v11 + v9;
            v11 = v11 * v12 + v10;
            v12 = v12 * v13 + v11;
            v13 = v13 * v14 + v12;
            v14 = v14 * v15 + v13;
            v15 = v15 * v16 + v14;
            v16 = v16 * v17 + v15;
            v17 = v17 * v18 + v16;
            v18 = v18 * v19 + v17;
            v19 = v19 * v20 + v18;
            v20 = v20 * v21 + v19;
            v21 = v21 * v22 + v20;
            v22 = v22 * v23 + v21;
            v23 = v23 * v24 + v22;
            v24 = v24 * v25 + v23;
            v25 = v25 * v26 + v24;
            v26 = v26 * v27 + v25;
            v27 = v27 * v28 + v26;
            v28 = v28 * v29 + v27;
            v29 = v29 * v30 + v28;
            v30 = v30 * v31 + v29;
            v31 = v31 * v32 + v30;
            v32 = v32 * v33 + v31;
            v33 = v33 * v34 + v32;
            v34 = v34 * v35 + v33;
            v35 = v35 * v36 + v34;
            v36 = v36 * v37 + v35;
            v37 = v37 * v38 + v36;
            v38 = v38 * v39 + v37;
            v39 = v39 * v0 + v38;
        }
        float sum = 0;
        sum += v0 + v1 + v2 + v3 + v4 + v5 + v6 + v7 + v8 + v9;
        sum += v10 + v11 + v12 + v13 + v14 + v15 + v16 + v17 + v18 + v19;
        sum += v20 + v21 + v22 + v23 + v24 + v25 + v26 + v27 + v28 + v29;
        sum += v30 + v31 + v32 + v33 + v34 + v35 + v36 + v37 + v38 + v39;
        y[Grid.GlobalIndex.X] = sum;
    }

    /// <summary>A 256-float shared tile (1024 bytes of smem), a barrier and a group-stride loop.</summary>
    public static void Shared(ArrayView<float> x, ArrayView<float> y)
    {
        var tile = SharedMemory.Allocate<float>(256);
        for (int i = Group.IdxX; i < 256; i += Group.DimX) tile[i] = x[Grid.IdxX * 256 + i];
        Group.Barrier();
        for (int i = Group.IdxX; i < 256; i += Group.DimX) y[Grid.IdxX * 256 + i] = tile[255 - i];
    }

    /// <summary>A device function ILGPU keeps as a .func (not inlined).</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    static float Series(float x, int n)
    {
        float s = 0;
        for (int k = 0; k < n; k++) s += x * k;
        return s;
    }

    public static void Helper(Index1D i, ArrayView<float> y) => y[i] = Series(y[i], i);

    /// <summary>An implicitly grouped kernel (first parameter Index1D).</summary>
    public static void Scale(Index1D i, ArrayView<float> y, float s) => y[i] *= s;
}
