using System.Buffers.Binary;
using System.Text.Json;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Checkpoints.SmolVlm;

namespace VlmTune.Checkpoints.Tests;

/// <summary>
/// The tiny SmolVLM checkpoints and parity cases under tests/fixtures/model (written by
/// tests/reference/model/smolvlm_reference.py) load with the checkpoint library and hold exactly the tensors the
/// config implies. The numerical parity tests against these fixtures belong to the model project.
/// </summary>
public class ModelFixtureTests
{
    private static string ModelFixture(params string[] parts) =>
        Path.Combine([TestPaths.RepoRoot, "tests", "fixtures", "model", .. parts]);

    [Theory]
    [InlineData("tiny", "F32")]
    [InlineData("tiny-bf16", "BF16")]
    public void Checkpoint_holds_every_tensor_of_the_config_and_nothing_else(string dir, string dtype)
    {
        var config = SmolVlmConfig.Load(ModelFixture(dir));
        using var checkpoint = SafeTensorsCheckpoint.Open(ModelFixture(dir));
        var expected = SmolVlmWeightNames.Enumerate(config);

        Assert.Equal(expected.Select(e => e.Name).Order(StringComparer.Ordinal), checkpoint.Names.Order(StringComparer.Ordinal));
        foreach (var (name, shape) in expected)
        {
            var info = checkpoint.GetInfo(name);
            Assert.True(shape.SequenceEqual(info.Shape), $"{name}: expected [{string.Join(", ", shape)}], found [{string.Join(", ", info.Shape)}]");
            Assert.Equal(dtype, info.DTypeName);
        }
        Assert.Equal(3 + 2 * 16 + 2 + 1 + 1 + 2 * 9 + 1 + 1, expected.Count);
    }

    [Fact]
    public void Tiny_config_has_the_fixture_sizes()
    {
        var config = SmolVlmConfig.Load(ModelFixture("tiny"));
        Assert.Equal(SmolVlmConfig.Idefics3ModelType, config.ModelType);
        Assert.Equal(4038, config.ImageTokenId);                 // <image> in tests/fixtures/tokenizer/smolvlm-tiny
        Assert.Equal(2, config.ScaleFactor);
        Assert.Equal(4, config.ImageSeqLen);                     // (32/8)² / 2²
        Assert.Equal((32, 64, 2, 2, 8, 32, 1e-6), (config.Vision.HiddenSize, config.Vision.IntermediateSize,
            config.Vision.NumHiddenLayers, config.Vision.NumAttentionHeads, config.Vision.PatchSize, config.Vision.ImageSize,
            config.Vision.LayerNormEps));
        var t = config.Text;
        Assert.Equal((64, 128, 2, 4, 2, 16, 4128), (t.HiddenSize, t.IntermediateSize, t.NumHiddenLayers, t.NumAttentionHeads,
            t.NumKeyValueHeads, t.HeadDim, t.VocabSize));
        Assert.Equal((1e-5, 100000.0, false), (t.RmsNormEps, t.RopeTheta, config.LmHeadTied));
    }

    [Fact]
    public void Bf16_weights_are_the_float32_weights_rounded_to_nearest_even()
    {
        using var f32 = SafeTensorsCheckpoint.Open(ModelFixture("tiny"));
        using var bf16 = SafeTensorsCheckpoint.Open(ModelFixture("tiny-bf16"));
        foreach (string name in f32.Names)
        {
            ReadOnlySpan<byte> wide = f32.GetBytes(name), narrow = bf16.GetBytes(name);
            Assert.Equal(wide.Length, narrow.Length * 2);
            for (int i = 0; i < narrow.Length / 2; i++)
            {
                uint bits = BinaryPrimitives.ReadUInt32LittleEndian(wide[(4 * i)..]);
                uint rounded = (bits + 0x7FFFu + ((bits >> 16) & 1u)) >> 16;
                ushort stored = BinaryPrimitives.ReadUInt16LittleEndian(narrow[(2 * i)..]);
                if (rounded != stored)
                    Assert.Fail($"{name}[{i}]: bf16 0x{stored:X4}, expected 0x{rounded:X4} from f32 0x{bits:X8}");
            }
        }
    }

    [Fact]
    public void Every_case_file_holds_the_tensors_its_manifest_lists()
    {
        using var manifest = JsonDocument.Parse(File.ReadAllBytes(ModelFixture("manifest.json")));
        var cases = manifest.RootElement.GetProperty("cases").EnumerateArray().ToArray();
        Assert.Equal(["text_only", "image_split", "image_split_bf16", "batch_padded", "partial_mask"],
            cases.Select(c => c.GetProperty("name").GetString()));
        var config = SmolVlmConfig.Load(ModelFixture("tiny"));
        foreach (var c in cases)
        {
            string file = ModelFixture(c.GetProperty("file").GetString()!.Split('/'));
            using var st = SafeTensorsFile.Open(file);
            foreach (var entry in c.GetProperty("tensors").EnumerateObject())
            {
                var info = st.GetInfo(entry.Name);
                Assert.Equal(entry.Value.GetProperty("dtype").GetString(), info.DTypeName);
                Assert.Equal(entry.Value.GetProperty("shape").EnumerateArray().Select(e => e.GetInt64()), info.Shape);
            }
            var ids = st.GetInfo("input_ids").Shape;
            Assert.Equal([ids[0], ids[1], config.Text.VocabSize], st.GetInfo("logits").Shape);
            Assert.Equal(st.Metadata["generator"], manifest.RootElement.GetProperty("generator").GetString());
        }
    }

    [Fact]
    public void Image_tokens_match_the_real_images_of_each_case()
    {
        var config = SmolVlmConfig.Load(ModelFixture("tiny"));
        foreach (string name in new[] { "image_split", "batch_padded", "partial_mask" })
        {
            using var st = SafeTensorsFile.Open(ModelFixture("cases", name + ".safetensors"));
            long[] ids = ReadInt64(st, "input_ids");
            long imageTokens = ids.Count(id => id == config.ImageTokenId);
            long realImages = st.GetInfo("image_features").Shape[0];
            Assert.Equal(realImages * config.ImageSeqLen, imageTokens);
            Assert.All(ids, id => Assert.InRange(id, 0, config.Text.VocabSize - 1));
        }
    }

    private static long[] ReadInt64(SafeTensorsFile file, string name)
    {
        ReadOnlySpan<byte> bytes = file.GetBytes(name);
        var values = new long[bytes.Length / 8];
        for (int i = 0; i < values.Length; i++)
            values[i] = BinaryPrimitives.ReadInt64LittleEndian(bytes[(8 * i)..]);
        return values;
    }
}
