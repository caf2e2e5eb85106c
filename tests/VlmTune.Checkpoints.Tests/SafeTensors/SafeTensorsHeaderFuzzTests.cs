using System.Buffers.Binary;
using System.Diagnostics;
using System.Text;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors;
using Xunit.Abstractions;

namespace VlmTune.Checkpoints.Tests.SafeTensors;

/// <summary>
/// Mutates valid files (seeded) and checks that the parser either accepts them with every tensor inside the file or
/// throws <see cref="SafeTensorsFormatException"/> — never another exception type, never a hang.
/// </summary>
public class SafeTensorsHeaderFuzzTests(ITestOutputHelper output)
{
    private const int Cases = 12_000;

    [Fact]
    public void Mutated_headers_only_ever_raise_SafeTensorsFormatException()
    {
        var seeds = SeedFiles();
        var rng = new Random(20240611);
        int accepted = 0, rejected = 0;
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < Cases; i++)
        {
            byte[] seed = seeds[rng.Next(seeds.Count)];
            byte[] mutated = Mutate(seed, rng);
            var one = Stopwatch.StartNew();
            try
            {
                var header = SafeTensorsHeader.Parse(mutated, mutated.Length, "fuzz.safetensors");
                foreach (var t in header.TensorsByOffset)
                {
                    Assert.True(t.ByteOffset >= header.DataStart && t.ByteOffset + t.ByteLength <= mutated.Length, $"case {i}: {t} outside the file");
                    Assert.Equal(SafeTensorsDTypesBytes(t), t.ByteLength);
                }
                accepted++;
            }
            catch (SafeTensorsFormatException ex)
            {
                Assert.Equal("fuzz.safetensors", ex.FilePath);
                rejected++;
            }
            catch (Exception ex)
            {
                Assert.Fail($"case {i}: {ex.GetType().Name} escaped the parser: {ex.Message}\ninput: {Convert.ToBase64String(mutated)}");
            }
            Assert.True(one.ElapsedMilliseconds < 2000, $"case {i} took {one.ElapsedMilliseconds} ms");
        }
        output.WriteLine($"{Cases} mutated headers: {accepted} accepted, {rejected} rejected with SafeTensorsFormatException, {clock.ElapsedMilliseconds} ms");
        Assert.True(accepted > 100 && rejected > 5000, $"mutations too tame or too wild: {accepted} accepted, {rejected} rejected");
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(30), $"fuzzing took {clock.Elapsed}");
    }

    [Fact]
    public void Mutated_files_on_disk_only_ever_raise_SafeTensorsFormatException()
    {
        var seeds = SeedFiles();
        var rng = new Random(7);
        using var dir = new TempDir();
        string path = dir.File("fuzz.safetensors");
        for (int i = 0; i < 300; i++)
        {
            File.WriteAllBytes(path, Mutate(seeds[rng.Next(seeds.Count)], rng));
            try
            {
                using var file = SafeTensorsFile.Open(path);
                foreach (string name in file.Names)
                {
                    var info = file.GetInfo(name);
                    if (info.ByteLength <= int.MaxValue) _ = file.GetBytes(name).ToArray(); // touch every mapped byte
                }
            }
            catch (SafeTensorsFormatException ex)
            {
                Assert.Equal(path, ex.FilePath);
            }
        }
    }

    private static long SafeTensorsDTypesBytes(TensorInfo t) =>
        t.Shape.Aggregate((long)SafeTensorsDTypes.BitsPerElement(t.DTypeName), (a, d) => a * d) / 8;

    private static List<byte[]> SeedFiles()
    {
        using var dir = new TempDir();
        var seeds = new List<byte[]>
        {
            File.ReadAllBytes(TestPaths.Fixture("mixed.safetensors")),
            File.ReadAllBytes(TestPaths.Fixture("no-metadata.safetensors")),
        };
        foreach (string f in Directory.GetFiles(TestPaths.Fixture("sharded"), "*.safetensors"))
            seeds.Add(File.ReadAllBytes(f));
        var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "pt", ["note"] = "q\"uo\\te\n" } };
        writer.Add("layers.0.w", DType.BF16, [3, 5], new byte[30]);
        writer.Add("layers.0.b", DType.F16, [5], new byte[10]);
        writer.Add("packed", "F4", [8], new byte[4]);
        writer.Add("scalar", DType.I64, [], new byte[8]);
        writer.WriteFile(dir.File("w.safetensors"));
        seeds.Add(File.ReadAllBytes(dir.File("w.safetensors")));
        return seeds;
    }

    private static readonly string[] Junk =
        ["{", "}", "[", "]", ",", ":", "\"", "\\", "null", "-1", "1e309", "18446744073709551616", "9223372036854775807",
         "\"dtype\":\"F32\"", "\"shape\":[]", "\"data_offsets\":[0,0]", "\"__metadata__\"", "{\"x\":{}}", "\u00e9", " ", "0.5", "[[[[[[[[[[[[[[[[[[[[[["];

    private static byte[] Mutate(byte[] seed, Random rng)
    {
        var bytes = new List<byte>(seed);
        int headerEnd = 8 + (int)Math.Min(BinaryPrimitives.ReadUInt64LittleEndian(seed), (ulong)(seed.Length - 8));
        int rounds = 1 + rng.Next(3);
        for (int r = 0; r < rounds; r++)
        {
            int hi = Math.Max(9, Math.Min(headerEnd, bytes.Count));
            switch (rng.Next(9))
            {
                case 0: // flip bits in the header
                    for (int k = rng.Next(1, 4); k > 0 && bytes.Count > 8; k--)
                        bytes[rng.Next(8, Math.Min(hi, bytes.Count))] ^= (byte)(1 << rng.Next(8));
                    break;
                case 1: // replace a run of digits with another number
                    ReplaceNumber(bytes, hi, rng);
                    break;
                case 2: // truncate the file anywhere
                    int cut = rng.Next(bytes.Count + 1);
                    bytes.RemoveRange(cut, bytes.Count - cut);
                    break;
                case 3: // grow or shrink the length field
                    if (bytes.Count >= 8)
                    {
                        ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes.ToArray());
                        ulong[] choices = [n + 1, n - 1, n + (ulong)rng.Next(1, 64), n - (ulong)rng.Next(1, 8), 0, 1, 2, ulong.MaxValue, 100_000_000, 100_000_001, (ulong)bytes.Count];
                        byte[] field = new byte[8];
                        BinaryPrimitives.WriteUInt64LittleEndian(field, choices[rng.Next(choices.Length)]);
                        for (int k = 0; k < 8; k++) bytes[k] = field[k];
                    }
                    break;
                case 4: // insert junk into the header, keeping the length field consistent half of the time
                    InsertJunk(bytes, hi, rng, fixLength: rng.Next(2) == 0);
                    break;
                case 5: // delete a slice of the header
                    if (hi > 9)
                    {
                        int at = rng.Next(8, hi - 1);
                        bytes.RemoveRange(at, Math.Min(rng.Next(1, 12), hi - at));
                    }
                    break;
                case 6: // duplicate a slice of the header in place
                    if (hi > 9)
                    {
                        int at = rng.Next(8, hi - 1);
                        var slice = bytes.GetRange(at, Math.Min(rng.Next(1, 40), hi - at));
                        bytes.InsertRange(at, slice);
                    }
                    break;
                case 7: // random byte values anywhere
                    if (bytes.Count > 0) bytes[rng.Next(bytes.Count)] = (byte)rng.Next(256);
                    break;
                default: // swap a dtype name
                    SwapDType(bytes, hi, rng);
                    break;
            }
        }
        return bytes.ToArray();
    }

    private static void ReplaceNumber(List<byte> bytes, int hi, Random rng)
    {
        var starts = new List<int>();
        for (int i = 8; i < Math.Min(hi, bytes.Count); i++)
            if (char.IsAsciiDigit((char)bytes[i]) && !char.IsAsciiDigit((char)bytes[i - 1])) starts.Add(i);
        if (starts.Count == 0) return;
        int s = starts[rng.Next(starts.Count)], e = s;
        while (e < bytes.Count && char.IsAsciiDigit((char)bytes[e])) e++;
        string[] numbers = ["0", "1", "7", "-3", "4294967296", "9223372036854775807", "9223372036854775808", "99999999999999999999999", "2.5", "1e3", rng.Next(0, 300).ToString()];
        bytes.RemoveRange(s, e - s);
        bytes.InsertRange(s, Encoding.ASCII.GetBytes(numbers[rng.Next(numbers.Length)]));
    }

    private static void InsertJunk(List<byte> bytes, int hi, Random rng, bool fixLength)
    {
        if (bytes.Count < 9) return;
        byte[] junk = Encoding.UTF8.GetBytes(Junk[rng.Next(Junk.Length)]);
        bytes.InsertRange(rng.Next(8, Math.Min(hi, bytes.Count)), junk);
        if (fixLength)
        {
            ulong n = BinaryPrimitives.ReadUInt64LittleEndian(bytes.ToArray()) + (ulong)junk.Length;
            byte[] field = new byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(field, n);
            for (int k = 0; k < 8; k++) bytes[k] = field[k];
        }
    }

    private static void SwapDType(List<byte> bytes, int hi, Random rng)
    {
        string text = Encoding.Latin1.GetString(bytes.ToArray(), 0, Math.Min(hi, bytes.Count));
        int at = text.IndexOf("\"dtype\":\"", rng.Next(Math.Max(1, text.Length)) % Math.Max(1, text.Length), StringComparison.Ordinal);
        if (at < 0) at = text.IndexOf("\"dtype\":\"", StringComparison.Ordinal);
        if (at < 0) return;
        int s = at + 9, e = text.IndexOf('"', s);
        if (e < 0) return;
        string[] names = ["F32", "BF16", "U8", "F64", "BOOL", "F4", "F6_E2M3", "C64", "X", ""];
        bytes.RemoveRange(s, e - s);
        bytes.InsertRange(s, Encoding.ASCII.GetBytes(names[rng.Next(names.Length)]));
    }
}
