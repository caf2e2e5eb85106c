using System.Reflection;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.Tensors.Cuda.Tests.Ptx;

/// <summary>
/// ILGPU's PTX backend on a context with no GPU behind it: it needs no device, no driver and no CUDA accelerator
/// (shared/spec/cuda.md §2; <c>b.Cuda()</c> is accepted with no GPU too: it just finds 0 CUDA devices). One instance
/// compiles every kernel. PTX ISA 7.8 because ptxas 11.8 refuses newer; ILGPU writes <c>.target sm_80</c> (the lowest
/// architecture with the features used) and ptxas then assembles for sm_90. Not thread-safe: compile from one thread.
/// <para>
/// The context must be configured like the real GPU context, or the gate checks different code (intrinsics such as
/// MathF.Exp exist for PTX only with ILGPU.Algorithms or libdevice; the optimisation level changes registers). When
/// <c>VlmTune.Tensors.Cuda.CudaRuntime</c> defines <c>static void ConfigureContext(Context.Builder)</c> (or one
/// returning the builder), the gate uses exactly that; otherwise <see cref="Fallback"/>.
/// </para>
/// </summary>
public sealed class PtxCompiler : IDisposable
{
    public static readonly CudaArchitecture Architecture = CudaArchitecture.SM_90;
    public static readonly CudaInstructionSet InstructionSet = CudaInstructionSet.ISA_78;

    /// <summary>The configuration used while CudaRuntime has no ConfigureContext.</summary>
    public static void Fallback(Context.Builder b) => b.Cuda().Optimize(OptimizationLevel.O1);

    readonly Context _context;
    readonly PTXBackend _backend;

    /// <summary>Which configuration was used, and its optimisation level (for the report).</summary>
    public string Description { get; }

    public PtxCompiler()
    {
        var hook = typeof(CudaBackend).Assembly.GetType("VlmTune.Tensors.Cuda.CudaRuntime")
            ?.GetMethod("ConfigureContext", BindingFlags.Static | BindingFlags.Public | BindingFlags.NonPublic, [typeof(Context.Builder)]);
        _context = hook != null ? Context.Create(b => hook.Invoke(null, [b])) : Context.Create(Fallback);
        Description = (hook != null ? "CudaRuntime.ConfigureContext" : "gate default: Cuda(), no CudaRuntime.ConfigureContext")
                      + $", O{(int)_context.Properties.OptimizationLevel}";
        _backend = new PTXBackend(_context, new CudaCapabilityContext(Architecture), Architecture, InstructionSet, null);
    }

    /// <summary>The PTX module (one .entry) of <paramref name="kernel"/>, compiled with its declared grouping.</summary>
    public string Compile(KernelCatalog.Entry kernel)
    {
        var entry = kernel.Grouping == KernelGrouping.Implicit
            ? EntryPointDescription.FromImplicitlyGroupedKernel(kernel.Method)
            : EntryPointDescription.FromExplicitlyGroupedKernel(kernel.Method);
        var compiled = (PTXCompiledKernel)_backend.Compile(entry, KernelSpecialization.Empty);
        return compiled.PTXAssembly;
    }

    public void Dispose()
    {
        _backend.Dispose();
        _context.Dispose();
    }
}
