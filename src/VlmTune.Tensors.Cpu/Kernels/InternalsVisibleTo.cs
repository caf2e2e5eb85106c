using System.Runtime.CompilerServices;

// The kernel tests switch the micro-kernel to its scalar fallback (GemmMicroKernel.UseVector256) to cover it.
[assembly: InternalsVisibleTo("VlmTune.Tensors.Tests")]
