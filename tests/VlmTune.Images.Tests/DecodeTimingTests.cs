using System.Diagnostics;
using Xunit.Abstractions;

namespace VlmTune.Images.Tests;

/// <summary>
/// Opt-in timing of the engine.md §4 images (1024×768 plasma, PNG and q90 4:2:0 JPEG). The images are not in the
/// repository: tests/reference/images/make_bench_images.sh makes them. Without VLMTUNE_IMAGES_BENCH_DIR this test
/// only reports that it did nothing. It also checks the decodes are exact against ImageMagick / djpeg.
/// </summary>
public class DecodeTimingTests(ITestOutputHelper output)
{
    [Fact]
    public void DecodeTiming_1024x768()
    {
        string? dir = Environment.GetEnvironmentVariable("VLMTUNE_IMAGES_BENCH_DIR");
        if (string.IsNullOrEmpty(dir))
        {
            output.WriteLine("VLMTUNE_IMAGES_BENCH_DIR not set: timing skipped");
            return;
        }
        foreach (string name in new[] { "plasma.jpg", "plasma.png" })
        {
            var data = File.ReadAllBytes(Path.Combine(dir, name));
            var expected = ReadPpm(Path.Combine(dir, name + ".ppm"));
            var image = ImageDecoder.Decode(data, name);
            Assert.Equal(expected, image.Pixels);
            for (int i = 0; i < 5; i++) ImageDecoder.Decode(data, name);   // let tiered JIT settle
            var times = new double[21];
            for (int i = 0; i < times.Length; i++)
            {
                var sw = Stopwatch.StartNew();
                ImageDecoder.Decode(data, name);
                times[i] = sw.Elapsed.TotalMilliseconds;
            }
            Array.Sort(times);
            output.WriteLine($"{name}: {image.Width}x{image.Height}, {data.Length} bytes, median {times[10]:F1} ms " +
                             $"(min {times[0]:F1}, max {times[^1]:F1}) over 21 runs after 6 warm-ups");
        }
    }

    private static byte[] ReadPpm(string path)
    {
        var data = File.ReadAllBytes(path);
        int newlines = 0, pos = 0;
        while (newlines < 3) if (data[pos++] == '\n') newlines++;   // "P6\nW H\n255\n" as djpeg and ImageMagick write it
        return data[pos..];
    }
}
