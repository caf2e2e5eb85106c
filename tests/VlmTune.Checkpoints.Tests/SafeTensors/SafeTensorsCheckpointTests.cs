using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors;

namespace VlmTune.Checkpoints.Tests.SafeTensors;

public class SafeTensorsCheckpointTests
{
    [Fact]
    public void Opens_the_reference_sharded_fixture()
    {
        using var ckpt = SafeTensorsCheckpoint.Open(TestPaths.Fixture("sharded"));
        using var single = SafeTensorsFile.Open(TestPaths.Fixture("mixed.safetensors"));

        Assert.NotNull(ckpt.IndexPath);
        Assert.Equal(4, ckpt.Files.Count);
        Assert.Equal(["model-00001-of-00004.safetensors", "model-00002-of-00004.safetensors", "model-00003-of-00004.safetensors", "model-00004-of-00004.safetensors"], ckpt.Files.Select(f => Path.GetFileName(f.Path)));
        Assert.Equal(["a.bias", "z.weight", "big"], ckpt.Names.Take(3));
        Assert.Equal(141, ckpt.TotalSize);
        Assert.Equal(12, ckpt.Names.Count);
        foreach (string name in single.Names)
        {
            Assert.True(single.GetBytes(name).SequenceEqual(ckpt.GetBytes(name)), name);
            Assert.Equal(single.GetInfo(name).Shape, ckpt.GetInfo(name).Shape);
        }
        Assert.Equal(DType.F32, ckpt.GetInfo("big").DType);
        Assert.Equal("model-00002-of-00004.safetensors", Path.GetFileName(ckpt.GetFile("big").Path));
        Assert.Null(ckpt.TryGetInfo("missing"));
        Assert.Throws<KeyNotFoundException>(() => ckpt.GetInfo("missing"));
    }

    [Fact]
    public void Single_file_wins_over_an_index_like_transformers()
    {
        using var dir = CopyOfShardedFixture();
        File.Copy(TestPaths.Fixture("no-metadata.safetensors"), dir.File("model.safetensors"));
        using var ckpt = SafeTensorsCheckpoint.Open(dir.Path);
        Assert.Null(ckpt.IndexPath);
        Assert.Equal(["a.bias", "z.weight"], ckpt.Names);
    }

    [Fact]
    public void Empty_or_missing_folders_fail_clearly()
    {
        using var dir = new TempDir();
        var ex = Assert.Throws<FileNotFoundException>(() => SafeTensorsCheckpoint.Open(dir.Path));
        Assert.Contains("model.safetensors.index.json", ex.Message);
        Assert.Throws<DirectoryNotFoundException>(() => SafeTensorsCheckpoint.Open(dir.File("nope")));
    }

    public static TheoryData<string, string, string?> BadIndexes => new()
    {
        { "missing shard", """{"weight_map": {"a.bias": "model-00009-of-00009.safetensors"}}""", null },
        { "name not in its shard", """{"weight_map": {"z.weight": "model-00001-of-00004.safetensors", "big": "model-00001-of-00004.safetensors"}}""", "big" },
        { "traversal", """{"weight_map": {"a.bias": "../model-00001-of-00004.safetensors"}}""", "a.bias" },
        { "subfolder", """{"weight_map": {"a.bias": "sub/model.safetensors"}}""", "a.bias" },
        { "value not string", """{"weight_map": {"a.bias": 3}}""", "a.bias" },
        { "no weight_map", """{"metadata": {"total_size": 1}}""", null },
        { "weight_map not object", """{"weight_map": []}""", null },
        { "empty weight_map", """{"weight_map": {}}""", null },
        { "not an object", """[1]""", null },
        { "malformed", """{"weight_map": {""", null },
        { "duplicate key", """{"weight_map": {"a.bias": "model-00001-of-00004.safetensors", "a.bias": "model-00001-of-00004.safetensors"}}""", "a.bias" },
        { "bad total_size", """{"metadata": {"total_size": "141"}, "weight_map": {"a.bias": "model-00001-of-00004.safetensors"}}""", null },
    };

    [Theory]
    [MemberData(nameof(BadIndexes))]
    public void Broken_indexes_name_the_index_file(string why, string index, string? tensor)
    {
        using var dir = CopyOfShardedFixture();
        string indexPath = dir.File("model.safetensors.index.json");
        File.WriteAllText(indexPath, index);
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(dir.Path));
        Assert.Equal(indexPath, ex.FilePath);
        Assert.Equal(tensor, ex.TensorName);
        Assert.False(string.IsNullOrEmpty(ex.Detail), why);
    }

    [Fact]
    public void A_tensor_stored_in_two_shards_is_rejected()
    {
        using var dir = CopyOfShardedFixture();
        // Shard 1 holds a.bias and z.weight; make shard 2 hold a copy of a.bias as well.
        var writer = new SafeTensorsWriter { Metadata = new() { ["format"] = "pt" } };
        writer.Add("big", DType.F32, [12], new byte[48]);
        writer.Add("a.bias", DType.F32, [3], new byte[12]);
        writer.WriteFile(dir.File("model-00002-of-00004.safetensors"));
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(dir.Path));
        Assert.Equal("a.bias", ex.TensorName);
        Assert.Contains("two shards", ex.Message);
    }

    [Fact]
    public void A_corrupt_shard_is_reported_with_the_shard_path()
    {
        using var dir = CopyOfShardedFixture();
        string shard = dir.File("model-00003-of-00004.safetensors");
        byte[] bytes = File.ReadAllBytes(shard);
        File.WriteAllBytes(shard, bytes[..^1]); // truncated: the last tensor runs past the data region
        var ex = Assert.Throws<SafeTensorsFormatException>(() => SafeTensorsCheckpoint.Open(dir.Path));
        Assert.Equal(shard, ex.FilePath);
    }

    private static TempDir CopyOfShardedFixture()
    {
        var dir = new TempDir();
        foreach (string f in Directory.GetFiles(TestPaths.Fixture("sharded")))
            File.Copy(f, dir.File(Path.GetFileName(f)));
        return dir;
    }
}
