namespace VlmTune.Tensors.Cpu.Kernels;

/// <summary>Blocking parameters of the Goto/BLIS loop nest (engine.md §3).</summary>
internal static class GemmBlocking
{
    /// <summary>Rows of a micro-tile (= rows of a packed A panel).</summary>
    public const int MR = 6;

    /// <summary>Columns of a micro-tile (= columns of a packed B panel): two Vector256&lt;float&gt;.</summary>
    public const int NR = 16;

    /// <summary>Upper bound on the depth of one packed block; a B panel (KC×NR, 20 KiB) stays in L1.
    /// 320 rather than 256: K = 576 then takes 2 passes over C instead of 3 (measured slightly faster).</summary>
    public const int KC = 320;

    /// <summary>Upper bound on rows of a packed A block (MC×KC stays in L2). Multiple of MR.</summary>
    public const int MC = 120;

    /// <summary>Upper bound on columns of the shared packed B block (KC×NC floats = 4 MiB, in L3). Multiple of NR.
    /// Each packed A block is reused across nc columns, so a wide block amortises packing A.</summary>
    public const int NC = 4096;

    /// <summary>Floats allocated past the end of a packed-A block: the vector A packer may spill 2.</summary>
    public const int PackSlack = 16;

    /// <summary>Below this many flops (2·M·N·K) one thread does the call: waking workers costs more.</summary>
    public const long MinFlopsForThreads = 1L << 21;
}
