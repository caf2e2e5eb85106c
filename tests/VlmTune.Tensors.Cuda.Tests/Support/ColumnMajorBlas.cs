namespace VlmTune.Tensors.Cuda.Tests.Support;

/// <summary>
/// A managed stand-in for cuBLAS: interprets the exact arguments cuBLAS would receive with standard BLAS semantics,
/// C[p] = alpha·op(A[p])·op(B[p]) + beta·C[p] for p &lt; batch, column-major with leading dimensions (element (i, j) of a
/// matrix with leading dimension ld at i + j·ld), batch strides in elements (0 broadcasts), C not read when beta is 0.
/// It checks what cuBLAS checks (CUBLAS_STATUS_INVALID_VALUE) and touches no element outside the arrays it is given
/// (exactly sized, so a wrong leading dimension or stride fails).
/// </summary>
public static class ColumnMajorBlas
{
    public sealed class InvalidValue(string message) : Exception(message);

    /// <summary>cublasGemmStridedBatchedEx (batch 1 = cublasGemmEx; strides unused then).</summary>
    public static void Gemm(in CublasGemmArgs g, float[] a, float[] b, float[] c)
    {
        if (g.TransA is not (0 or 1) || g.TransB is not (0 or 1)) throw new InvalidValue($"trans {g.TransA}/{g.TransB}");
        if (g.M < 0 || g.N < 0 || g.K < 0 || g.Batch < 0) throw new InvalidValue("negative size");
        if (g.Lda < Math.Max(1, g.TransA == 0 ? g.M : g.K)) throw new InvalidValue($"lda {g.Lda} for m {g.M} k {g.K} trans {g.TransA}");
        if (g.Ldb < Math.Max(1, g.TransB == 0 ? g.K : g.N)) throw new InvalidValue($"ldb {g.Ldb} for k {g.K} n {g.N} trans {g.TransB}");
        if (g.Ldc < Math.Max(1, g.M)) throw new InvalidValue($"ldc {g.Ldc} for m {g.M}");
        if (g.Batch > 1 && g.StrideC < (long)g.Ldc * g.N) throw new InvalidValue($"strideC {g.StrideC} overlaps C batches");
        if (g.ComputeType != 68) throw new InvalidValue($"compute type {g.ComputeType}");
        for (int p = 0; p < g.Batch; p++)
        {
            long oa = g.Batch > 1 ? p * g.StrideA : 0, ob = g.Batch > 1 ? p * g.StrideB : 0, oc = g.Batch > 1 ? p * g.StrideC : 0;
            for (int j = 0; j < g.N; j++)
                for (int i = 0; i < g.M; i++)
                {
                    double s = 0;
                    for (int l = 0; l < g.K; l++)
                    {
                        float x = a[oa + (g.TransA == 0 ? i + (long)l * g.Lda : l + (long)i * g.Lda)];
                        float y = b[ob + (g.TransB == 0 ? l + (long)j * g.Ldb : j + (long)l * g.Ldb)];
                        s += (double)x * y;
                    }
                    long e = oc + i + (long)j * g.Ldc;
                    c[e] = (float)(g.Alpha * s + (g.Beta == 0 ? 0 : g.Beta * c[e]));
                }
        }
    }

    /// <summary>
    /// cublasLtMatmul with D = C, from the descriptors cuBLASLt would get: each matrix's stored rows × cols and
    /// leading dimension (column order), TRANSA/TRANSB, BATCH_COUNT and STRIDED_BATCH_OFFSET. Checks the layouts
    /// agree (op(A) m×k, op(B) k×n, C m×n) before reusing the GemmEx semantics.
    /// </summary>
    public static void Lt(in CublasGemmArgs g, in LtLayouts l, float[] a, float[] b, float[] c)
    {
        long m = (long)l.CRows, n = (long)l.CCols;
        long opARows = g.TransA == 0 ? (long)l.ARows : (long)l.ACols, opACols = g.TransA == 0 ? (long)l.ACols : (long)l.ARows;
        long opBRows = g.TransB == 0 ? (long)l.BRows : (long)l.BCols, opBCols = g.TransB == 0 ? (long)l.BCols : (long)l.BRows;
        if (opARows != m || opBCols != n || opACols != opBRows) throw new InvalidValue($"layouts disagree: op(A) {opARows}x{opACols}, op(B) {opBRows}x{opBCols}, C {m}x{n}");
        if (l.Lda < (long)l.ARows || l.Ldb < (long)l.BRows || l.Ldc < (long)l.CRows) throw new InvalidValue("ld below rows");
        Gemm(g with { M = (int)m, N = (int)n, K = (int)opACols, Lda = (int)l.Lda, Ldb = (int)l.Ldb, Ldc = (int)l.Ldc }, a, b, c);
    }
}
