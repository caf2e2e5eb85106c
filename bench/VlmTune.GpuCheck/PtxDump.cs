using System.Security.Cryptography;
using System.Text;
using ILGPU;
using ILGPU.Backends;
using ILGPU.Backends.EntryPoints;
using ILGPU.Backends.PTX;
using ILGPU.Runtime;
using ILGPU.Runtime.Cuda;
using VlmTune.Tensors.Cuda.Kernels;

namespace VlmTune.GpuCheck;

/// <summary>
/// <c>vlmtune ptx --out DIR [--isa 7.8|8.0|...]</c>: compiles every <see cref="KernelCatalog"/> kernel with ILGPU's PTX
/// backend (no GPU needed, shared/spec/cuda.md §2) and writes DIR/Class.Method.ptx plus DIR/index.txt
/// (name, sha256). Run it from two builds (e.g. trimmed and untrimmed single-file) and diff the folders: the trimmer
/// must not have changed any kernel (it can fold branches such as <c>CudaAsm.IsSupported</c> away).
/// </summary>
public static class PtxDump
{
    public static int Run(string[] args)
    {
        string? outDir = null;
        var isa = CudaInstructionSet.ISA_78;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--out" when i + 1 < args.Length: outDir = args[++i]; break;
                case "--isa" when i + 1 < args.Length:
                {
                    var parts = args[++i].Split('.');
                    if (parts.Length != 2 || !int.TryParse(parts[0], out int major) || !int.TryParse(parts[1], out int minor))
                    {
                        Console.Error.WriteLine($"error: --isa {args[i]}: use MAJOR.MINOR, e.g. 7.8");
                        return 2;
                    }
                    isa = new CudaInstructionSet(major, minor);
                    break;
                }
                default:
                    Console.Error.WriteLine($"error: unknown option '{args[i]}'\nusage: vlmtune ptx --out DIR [--isa 7.8]");
                    return 2;
            }
        }
        if (outDir == null)
        {
            Console.Error.WriteLine("usage: vlmtune ptx --out DIR [--isa 7.8]");
            return 2;
        }
        Directory.CreateDirectory(outDir);
        var kernels = KernelCatalog.All();
        using var context = Context.Create(b => b.Optimize(OptimizationLevel.O2));
        using var backend = new PTXBackend(context, new CudaCapabilityContext(CudaArchitecture.SM_90), CudaArchitecture.SM_90, isa, null);
        var index = new StringBuilder();
        int failed = 0;
        foreach (var k in kernels)
        {
            try
            {
                var entry = k.Grouping == KernelGrouping.Implicit
                    ? EntryPointDescription.FromImplicitlyGroupedKernel(k.Method)
                    : EntryPointDescription.FromExplicitlyGroupedKernel(k.Method);
                string ptx = ((PTXCompiledKernel)backend.Compile(entry, KernelSpecialization.Empty)).PTXAssembly;
                File.WriteAllText(Path.Combine(outDir, k.Name + ".ptx"), ptx);
                string hash = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(ptx))).ToLowerInvariant();
                index.AppendLine($"{k.Name} {hash}");
            }
            catch (Exception e)
            {
                failed++;
                index.AppendLine($"{k.Name} FAILED {e.GetType().Name}: {e.Message.Split('\n')[0]}");
            }
        }
        File.WriteAllText(Path.Combine(outDir, "index.txt"), index.ToString());
        Console.WriteLine($"ptx: {kernels.Count - failed} of {kernels.Count} kernels compiled (ISA {isa}) → {outDir}");
        return failed == 0 ? 0 : 1;
    }
}
