using System.Runtime.CompilerServices;

// The kernel tests switch the micro-kernel to its scalar fallback (GemmMicroKernel.UseVector256) to cover it.
[assembly: InternalsVisibleTo("VlmTune.Tensors.Tests")]
// The kernel benchmarks time the scalar oracles against the fast paths (bench/VlmTune.Bench dequant).
[assembly: InternalsVisibleTo("VlmTune.Bench")]
