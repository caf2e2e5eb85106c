using System.Reflection;

namespace VlmTune.Tensors.Cuda.Kernels;

/// <summary>Every <see cref="GpuKernelAttribute"/> method of this assembly (for the PTX gate and diagnostics).</summary>
public static class KernelCatalog
{
    public sealed record Entry(MethodInfo Method, KernelGrouping Grouping, bool NoSpill)
    {
        public string Name => $"{Method.DeclaringType!.Name}.{Method.Name}";
    }

    public static IReadOnlyList<Entry> All() =>
        typeof(KernelCatalog).Assembly.GetTypes()
            .SelectMany(t => t.GetMethods(BindingFlags.Public | BindingFlags.NonPublic | BindingFlags.Static))
            .Select(m => (m, a: m.GetCustomAttribute<GpuKernelAttribute>()))
            .Where(x => x.a != null)
            .Select(x => new Entry(x.m, x.a!.Grouping, x.a.NoSpill))
            .OrderBy(e => e.Name, StringComparer.Ordinal)
            .ToList();
}
