using System.Buffers.Binary;
using System.Text;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors;

namespace VlmTune.Checkpoints.Tests.SafeTensors;

public class SafeTensorsWriterTests
{
    private static readonly Dictionary<string, string> FixtureMetadata = new()
    {
        ["format"] = "pt",
        ["generator"] = "tests/reference/checkpoints/make_fixtures.py",
    };

    /// <summary>The fixture's tensors in the generator's insertion order (z.weight, a.bias, emb, ...).</summary>
    private static readonly string[] MixedOrder =
        ["z.weight", "a.bias", "emb", "half", "q.weight", "ids", "count", "mask", "empty", "d", "unicode.été"];

    private static SafeTensorsWriter WriterFromFixture(IEnumerable<string> order, SafeTensorsFile source)
    {
        var writer = new SafeTensorsWriter { Metadata = new(FixtureMetadata) };
        foreach (string name in order)
        {
            var info = source.GetInfo(name);
            writer.Add(name, info.DTypeName, info.Shape, source.GetBytes(name).ToArray());
        }
        return writer;
    }

    [Fact]
    public void Single_file_is_byte_identical_to_the_reference_layout()
    {
        using var source = SafeTensorsFile.Open(TestPaths.Fixture("mixed.safetensors"));
        using var dir = new TempDir();
        // Insertion order must not matter: the file order is dtype rank, then name.
        WriterFromFixture(MixedOrder.Reverse(), source).WriteFile(dir.File("out.safetensors"));
        Assert.Equal(File.ReadAllBytes(TestPaths.Fixture("mixed.safetensors")), File.ReadAllBytes(dir.File("out.safetensors")));
    }

    [Fact]
    public void Header_matches_the_safetensors_crate_serialization_tests()
    {
        // Expected bytes from huggingface/safetensors tensor.rs tests (test_serialization, test_empty,
        // test_serialization_forced_alignement): length prefix, compact JSON, space padding.
        using var dir = new TempDir();
        byte[] data = new byte[24];
        for (int i = 0; i < 6; i++) BinaryPrimitives.WriteSingleLittleEndian(data.AsSpan(4 * i), i);

        Check(w => w.Add("attn.0", DType.F32, [1, 2, 3], data), null,
            64, "{\"attn.0\":{\"dtype\":\"F32\",\"shape\":[1,2,3],\"data_offsets\":[0,24]}}", data);
        Check(w => w.Add("attn0", DType.F32, [1, 1, 2, 3], data), null,
            72, "{\"attn0\":{\"dtype\":\"F32\",\"shape\":[1,1,2,3],\"data_offsets\":[0,24]}}       ", data);
        Check(_ => { }, null, 8, "{}      ", []);
        Check(_ => { }, new() { ["framework"] = "pt" }, 40, "{\"__metadata__\":{\"framework\":\"pt\"}}     ", []);

        void Check(Action<SafeTensorsWriter> add, Dictionary<string, string>? metadata, int n, string header, byte[] payload)
        {
            var writer = new SafeTensorsWriter { Metadata = metadata };
            add(writer);
            string path = dir.File(Guid.NewGuid().ToString("N"));
            writer.WriteFile(path);
            byte[] expected = [.. BitConverter.GetBytes((ulong)n), .. Encoding.ASCII.GetBytes(header), .. payload];
            Assert.Equal(expected, File.ReadAllBytes(path));
        }
    }

    [Fact]
    public void Sharded_save_reproduces_the_reference_shards_and_index()
    {
        using var source = SafeTensorsFile.Open(TestPaths.Fixture("mixed.safetensors"));
        using var dir = new TempDir();
        var writer = WriterFromFixture(MixedOrder[..5], source);
        var big = new byte[48];
        for (int i = 0; i < 12; i++) BinaryPrimitives.WriteSingleLittleEndian(big.AsSpan(4 * i), i);
        writer.Add("big", DType.F32, [12], big);
        foreach (string name in MixedOrder[5..])
        {
            var info = source.GetInfo(name);
            writer.Add(name, info.DTypeName, info.Shape, source.GetBytes(name).ToArray());
        }
        writer.MaxShardSize = 40;

        var written = writer.Save(dir.Path);

        string[] expectedFiles = Directory.GetFiles(TestPaths.Fixture("sharded")).Select(Path.GetFileName).Order(StringComparer.Ordinal).ToArray()!;
        Assert.Equal(expectedFiles, written.Order(StringComparer.Ordinal));
        Assert.Equal("model.safetensors.index.json", written[^1]);
        foreach (string name in expectedFiles)
            Assert.True(File.ReadAllBytes(TestPaths.Fixture("sharded", name)).AsSpan().SequenceEqual(File.ReadAllBytes(Path.Combine(dir.Path, name))), name);
        Assert.Equal(expectedFiles, Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal)); // no temp files left
    }

    [Fact]
    public void Round_trip_single_and_sharded_through_the_checkpoint_reader()
    {
        var rng = new Random(1234);
        var tensors = new List<(string Name, DType DType, long[] Shape, byte[] Bytes)>();
        for (int i = 0; i < 40; i++)
        {
            var dtype = (DType)(i % 6);
            long[] shape = [rng.Next(1, 9), rng.Next(0, 7)];
            var bytes = new byte[shape[0] * shape[1] * dtype.Size()];
            rng.NextBytes(bytes);
            tensors.Add(($"layers.{i}.w", dtype, shape, bytes));
        }
        foreach (long maxShard in new[] { SafeTensorsWriter.DefaultMaxShardSize, 300L, 1L })
        {
            using var dir = new TempDir();
            var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "pt" }, MaxShardSize = maxShard };
            foreach (var t in tensors) writer.Add(t.Name, t.DType, t.Shape, t.Bytes);
            var files = writer.Save(dir.Path);

            using var ckpt = SafeTensorsCheckpoint.Open(dir.Path);
            Assert.Equal(maxShard == SafeTensorsWriter.DefaultMaxShardSize, ckpt.IndexPath is null);
            Assert.Equal(files.Count - (ckpt.IndexPath is null ? 0 : 1), ckpt.Files.Count);
            Assert.Equal(tensors.Select(t => t.Name).Order(StringComparer.Ordinal), ckpt.Names.Order(StringComparer.Ordinal));
            if (ckpt.IndexPath is not null) Assert.Equal(writer.TotalSize, ckpt.TotalSize);
            Assert.Equal("pt", ckpt.Metadata["format"]);
            foreach (var t in tensors)
            {
                var info = ckpt.GetInfo(t.Name);
                Assert.Equal(t.DType, info.DType);
                Assert.Equal(t.Shape, info.Shape);
                Assert.True(t.Bytes.AsSpan().SequenceEqual(ckpt.GetBytes(t.Name)), t.Name);
                var copy = new byte[t.Bytes.Length];
                ckpt.CopyTo(t.Name, copy);
                Assert.Equal(t.Bytes, copy);
            }
        }
    }

    [Fact]
    public void Callback_tensors_are_streamed_and_their_length_enforced()
    {
        using var dir = new TempDir();
        var writer = new SafeTensorsWriter();
        writer.Add("streamed", DType.U8, [3, 4], dest =>
        {
            for (byte i = 0; i < 12; i++) dest.WriteByte(i);
        });
        writer.Add("plain", DType.I32, [1], new byte[4]);
        writer.Save(dir.Path);
        using (var file = SafeTensorsFile.Open(Path.Combine(dir.Path, "model.safetensors")))
            Assert.Equal(Enumerable.Range(0, 12).Select(i => (byte)i), file.GetBytes("streamed").ToArray());

        var shortWriter = new SafeTensorsWriter();
        shortWriter.Add("t", DType.F32, [4], dest => dest.Write(new byte[15]));
        Assert.Contains("wrote 15 bytes, expected 16", Assert.Throws<InvalidOperationException>(() => shortWriter.Save(dir.Path)).Message);

        var longWriter = new SafeTensorsWriter();
        longWriter.Add("t", DType.F32, [4], dest => dest.Write(new byte[17]));
        Assert.Contains("more than the expected 16", Assert.Throws<InvalidOperationException>(() => longWriter.Save(dir.Path)).Message);

        // The failed saves left the earlier good file untouched and no temp files behind.
        Assert.Equal(["model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName));
        using (var file = SafeTensorsFile.Open(Path.Combine(dir.Path, "model.safetensors")))
            Assert.True(file.Contains("streamed"));
    }

    [Fact]
    public void Failure_midway_through_shards_leaves_nothing_behind()
    {
        using var dir = new TempDir();
        var writer = new SafeTensorsWriter { MaxShardSize = 8 };
        writer.Add("a", DType.F32, [2], new byte[8]);
        writer.Add("b", DType.F32, [2], new byte[8]);
        writer.Add("c", DType.F32, [2], _ => throw new IOException("disk full (simulated)"));
        Assert.Throws<IOException>(() => writer.Save(dir.Path));
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Switching_layouts_removes_the_other_layouts_files()
    {
        using var dir = new TempDir();
        var writer = new SafeTensorsWriter { MaxShardSize = 8 };
        writer.Add("a", DType.F32, [2], new byte[8]);
        writer.Add("b", DType.F32, [2], new byte[8]);
        writer.Add("c", DType.F32, [2], new byte[8]);
        File.WriteAllText(dir.File("config.json"), "{}");
        Assert.Equal(4, writer.Save(dir.Path).Count);

        writer.MaxShardSize = SafeTensorsWriter.DefaultMaxShardSize;
        Assert.Equal(["model.safetensors"], writer.Save(dir.Path));
        Assert.Equal(["config.json", "model.safetensors"], Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));

        writer.MaxShardSize = 16;
        writer.Save(dir.Path);
        Assert.Equal(["config.json", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors", "model.safetensors.index.json"],
            Directory.GetFiles(dir.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
    }

    [Fact]
    public void Add_rejects_bad_tensors()
    {
        var writer = new SafeTensorsWriter();
        writer.Add("w", DType.F32, [2], new byte[8]);
        Assert.Contains("already added", Assert.Throws<ArgumentException>(() => writer.Add("w", DType.F32, [2], new byte[8])).Message);
        Assert.Contains("needs 8 bytes, got 7", Assert.Throws<ArgumentException>(() => writer.Add("x", DType.F32, [2], new byte[7])).Message);
        Assert.Contains("reserved", Assert.Throws<ArgumentException>(() => writer.Add("__metadata__", DType.U8, [0], Array.Empty<byte>())).Message);
        Assert.Contains("unknown safetensors dtype", Assert.Throws<ArgumentException>(() => writer.Add("y", "F31", [1], new byte[4])).Message);
        Assert.Contains("negative", Assert.Throws<ArgumentException>(() => writer.Add("z", DType.U8, [-1], Array.Empty<byte>())).Message);
        Assert.Contains("lone surrogate", Assert.Throws<ArgumentException>(() => writer.Add("bad\ud800", DType.U8, [0], Array.Empty<byte>())).Message);
        Assert.Throws<ArgumentException>(() => writer.Save(Path.GetTempPath(), "weights.bin"));
    }
}
