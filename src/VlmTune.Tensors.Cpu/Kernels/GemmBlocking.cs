namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>Blocking parameters of the Goto/BLIS loop nest (engine.md §3).</summary>
internal static class GemmBlocking
{
    /// <summary>Rows of a micro-tile (= rows of a packed A panel).</summary>
    public const int MR = 6;

    /// <summary>Widest micro-tile (= packed B panel) of any kernel: 2 × Vector512&lt;float&gt;. The Vector256 and
    /// scalar kernels use 16 columns (see <see cref="GemmMicroKernel.Width"/>).</summary>
    public const int NRMax = 32;

    /// <summary>Upper bound on the depth of one packed block; a B micro-panel (KC×32 floats, 32 KiB) stays in the
    /// 48 KiB L1. (320 measured about equal with the Vector256 kernel and a little slower with Vector512.)</summary>
    public const int KC = 256;

    /// <summary>Upper bound on rows of a packed A block (MC×KC stays in L2). Multiple of MR.</summary>
    public const int MC = 120;

    /// <summary>Upper bound on columns of the shared packed B block (KC×NC floats = 4 MiB, in L3). Multiple of NRMax.
    /// Each packed A block is reused across nc columns, so a wide block amortises packing A.</summary>
    public const int NC = 4096;

    /// <summary>Upper bound on nc when M fits one A block (decode, M = 1): KC×NCSmallM floats = 512 KiB stay in L2.</summary>
    public const int NCSmallM = 512;

    /// <summary>Floats allocated past the end of a packed-A block: the vector A packer may spill 2.</summary>
    public const int PackSlack = 16;

    /// <summary>Below this many flops (2·M·N·K) one thread does the call: waking workers costs more.</summary>
    public const long MinFlopsForThreads = 1L << 21;
}
