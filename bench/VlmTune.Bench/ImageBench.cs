using System.Diagnostics;
using VlmTune.Images;
using VlmTune.Processing;

namespace VlmTune.Bench;

/// <summary>
/// Decode + SmolVLM preprocessing of one image on the calling thread (one core): median wall time of decode, of
/// process (resize, tiles, normalise) and of both, with the 256M processor settings (2048 / 512).
/// Make the test image with tests/reference/images/make_bench_images.sh.
/// </summary>
public static class ImageBench
{
    public static int Run(string path, int reps)
    {
        var bytes = File.ReadAllBytes(path);
        var processor = new SmolVlmImageProcessor(ImageProcessorConfig.SmolVlm256M);
        var decode = new List<double>();
        var process = new List<double>();
        int tiles = 0;
        for (int i = 0; i < reps + 3; i++)
        {
            var sw = Stopwatch.StartNew();
            var image = ImageDecoder.Decode(bytes, path);
            double d = sw.Elapsed.TotalMilliseconds;
            sw.Restart();
            tiles = processor.Process([image]).TileCount;
            double p = sw.Elapsed.TotalMilliseconds;
            if (i >= 3) { decode.Add(d); process.Add(p); }
        }
        static double Median(List<double> v) => v.Order().ElementAt(v.Count / 2);
        var total = decode.Zip(process, (a, b) => a + b).ToList();
        Console.WriteLine($"image file={Path.GetFileName(path)} tiles={tiles} decode_ms={Median(decode):F1} process_ms={Median(process):F1} total_ms={Median(total):F1} (median of {reps}, one thread)");
        return 0;
    }
}
