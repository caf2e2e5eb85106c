using System.Diagnostics;
using System.Runtime.InteropServices;
using VlmTune.Images;
using VlmTune.Processing.Tests.Support;
using Xunit.Abstractions;

namespace VlmTune.Processing.Tests;

/// <summary>
/// Opt-in timing of the whole processor on one thread (resize + tile + normalise; decoding excluded). Runs only with
/// VLMTUNE_PROCESSOR_TIMING=1, e.g.
/// <c>VLMTUNE_PROCESSOR_TIMING=1 taskset -c 1 dotnet test tests/VlmTune.Processing.Tests -c Release
/// --filter ProcessorTimingTests --logger "console;verbosity=detailed"</c>.
/// </summary>
public partial class ProcessorTimingTests(ITestOutputHelper output)
{
    // CPU time of the calling thread (Linux CLOCK_THREAD_CPUTIME_ID = 3): unaffected by time spent descheduled on a
    // loaded machine, so it is the better "one core" figure when other jobs share the CPUs.
    [StructLayout(LayoutKind.Sequential)]
    struct TimeSpec { public long Seconds; public long Nanoseconds; }

    [LibraryImport("libc", EntryPoint = "clock_gettime")]
    private static partial int ClockGetTime(int clock, out TimeSpec time);

    static double ThreadCpuMs()
    {
        if (!OperatingSystem.IsLinux() || ClockGetTime(3, out TimeSpec t) != 0) return double.NaN;
        return t.Seconds * 1e3 + t.Nanoseconds / 1e6;
    }

    [Theory]
    [InlineData(1024, 768, true)]
    [InlineData(1024, 1024, true)]
    [InlineData(100, 80, true)]
    [InlineData(1024, 768, false)]
    public void Time_the_256m_pipeline(int width, int height, bool avx2)
    {
        if (Environment.GetEnvironmentVariable("VLMTUNE_PROCESSOR_TIMING") != "1") return;
        RgbImage image = ProcessorFixtures.Synthetic(width, height, seed: 7);
        var processor = new SmolVlmImageProcessor(ImageProcessorConfig.SmolVlm256M, avx2);
        ProcessedImages result = processor.Process([image]);   // warm-up (JIT, tiered compilation)
        for (int i = 0; i < 3; i++) processor.Process([image]);

        var times = new List<double>();
        var cpuTimes = new List<double>();
        for (int i = 0; i < 15; i++)
        {
            double cpu0 = ThreadCpuMs();
            var sw = Stopwatch.StartNew();
            processor.Process([image]);
            times.Add(sw.Elapsed.TotalMilliseconds);
            cpuTimes.Add(ThreadCpuMs() - cpu0);
        }
        times.Sort();
        cpuTimes.Sort();
        var tiledTimes = new List<double>();
        for (int i = 0; i < 15; i++)
        {
            var sw = Stopwatch.StartNew();
            processor.Tile(image);
            tiledTimes.Add(sw.Elapsed.TotalMilliseconds);
        }
        tiledTimes.Sort();
        output.WriteLine($"{width}x{height} avx2={avx2}: {result.TileCount} tiles of {result.TileSize}; " +
                         $"Process wall min {times[0]:F1} ms, median {times[times.Count / 2]:F1} ms; " +
                         $"thread CPU min {cpuTimes[0]:F1} ms, median {cpuTimes[cpuTimes.Count / 2]:F1} ms; " +
                         $"resize+tile only min {tiledTimes[0]:F1} ms, median {tiledTimes[tiledTimes.Count / 2]:F1} ms");
    }
}
