namespace VlmTune.Images.Tests;

/// <summary>
/// Truncations and seeded random byte flips of every decodable fixture: the decoder may succeed or throw
/// <see cref="ImageFormatException"/>, nothing else, and must finish (no hang).
/// </summary>
public class CorruptionTests
{
    private const int TruncationsPerFile = 24;
    private const int FlipsPerFile = 30;

    public static TheoryData<string> Inputs() =>
        new(ImageFixtures.All.Where(e => e.Expected != null).Select(e => e.Input));

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Truncation_gives_only_ImageFormatException(string input)
    {
        var data = ImageFixtures.Read(input);
        var offsets = new SortedSet<int> { 0, 1, 2, 3, 8, 16, 33, data.Length - 1, data.Length - 2, data.Length - 13 };
        var rng = new Random(StableSeed(input) ^ 0x5EED);
        while (offsets.Count < Math.Min(TruncationsPerFile, data.Length)) offsets.Add(rng.Next(data.Length));
        RunAll(input, offsets.Where(n => n >= 0 && n < data.Length).Select(n => data[..n]), allowSuccess: false);
    }

    [Theory]
    [MemberData(nameof(Inputs))]
    public void Random_byte_flips_give_only_ImageFormatException(string input)
    {
        var data = ImageFixtures.Read(input);
        var rng = new Random(StableSeed(input));
        var mutants = new List<byte[]>();
        for (int i = 0; i < FlipsPerFile; i++)
        {
            var m = (byte[])data.Clone();
            int count = 1 + rng.Next(3);
            for (int j = 0; j < count; j++)
            {
                int at = rng.Next(m.Length);
                m[at] = rng.Next(2) == 0 ? (byte)rng.Next(256) : (byte)(m[at] ^ (1 << rng.Next(8)));
            }
            mutants.Add(m);
        }
        RunAll(input, mutants, allowSuccess: true);
    }

    private static void RunAll(string input, IEnumerable<byte[]> mutants, bool allowSuccess)
    {
        var work = Task.Run(() =>
        {
            foreach (var m in mutants)
            {
                try
                {
                    var image = ImageDecoder.Decode(m, input);
                    // A truncated file must never decode silently (PNG needs IEND, JPEG needs EOI).
                    Assert.True(allowSuccess, $"{input} truncated to {m.Length} bytes decoded without an error");
                    Assert.Equal(image.Width * image.Height * 3, image.Pixels.Length);
                }
                catch (ImageFormatException e)
                {
                    Assert.Contains(input, e.Message);
                }
                catch (Exception e) when (e is not Xunit.Sdk.XunitException)
                {
                    Assert.Fail($"{input} ({m.Length} bytes): {e.GetType().Name}: {e.Message}\n{e.StackTrace}");
                }
            }
        });
        Assert.True(work.Wait(TimeSpan.FromSeconds(20)), $"{input}: decoding mutants did not finish in 20 s (hang?)");
    }

    private static int StableSeed(string s)
    {
        int h = 17;
        foreach (char c in s) h = h * 31 + c;
        return h & 0x7FFFFFFF;
    }
}
