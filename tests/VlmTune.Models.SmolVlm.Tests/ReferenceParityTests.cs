using System.Runtime.InteropServices;
using System.Text.Json;
using VlmTune.Checkpoints.SafeTensors;
using VlmTune.Tensors.Autograd;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests;

/// <summary>
/// Whole-model logits against the independent PyTorch reference (tests/reference/model/smolvlm_reference.py →
/// tests/fixtures/model): f32 and bf16-stored checkpoints loaded through the real HF loader; max |Δlogit| ≤ 1e-4 on
/// real (attention_mask = 1) positions, plus the reference's greedy continuation.
/// </summary>
public class ReferenceParityTests(Xunit.Abstractions.ITestOutputHelper output)
{
    static readonly string Root = FindRoot();
    static readonly Dictionary<string, SmolVlmModel> Models = new();

    static string FindRoot()
    {
        for (var d = new DirectoryInfo(AppContext.BaseDirectory); d != null; d = d.Parent)
            if (File.Exists(Path.Combine(d.FullName, "VlmTune.sln"))) return d.FullName;
        throw new InvalidOperationException("repository root not found");
    }

    static SmolVlmModel Model(string checkpoint)
    {
        lock (Models)
        {
            if (!Models.TryGetValue(checkpoint, out var m))
            {
                m = SmolVlmModel.Load(Path.Combine(Root, "tests/fixtures/model", checkpoint), CpuBackend.Device, out var unused);
                Assert.Empty(unused);
                Models[checkpoint] = m;
            }
            return m;
        }
    }

    public static TheoryData<string> Cases()
    {
        var data = new TheoryData<string>();
        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "tests/fixtures/model/manifest.json")));
        foreach (var c in doc.RootElement.GetProperty("cases").EnumerateArray()) data.Add(c.GetProperty("name").GetString()!);
        return data;
    }

    static JsonElement CaseEntry(string name)
    {
        var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, "tests/fixtures/model/manifest.json")));
        return doc.RootElement.GetProperty("cases").EnumerateArray().First(c => c.GetProperty("name").GetString() == name);
    }

    static T[] Read<T>(SafeTensorsFile f, string name) where T : unmanaged => MemoryMarshal.Cast<byte, T>(f.GetBytes(name)).ToArray();

    static (SmolVlmInputs Inputs, float[] Logits, long[] Mask, int Vocab) Load(string name)
    {
        var entry = CaseEntry(name);
        using var f = SafeTensorsFile.Open(Path.Combine(Root, "tests/fixtures/model", entry.GetProperty("file").GetString()!));
        var idsInfo = f.GetInfo("input_ids");
        int b = (int)idsInfo.Shape[0];
        var inputs = new SmolVlmInputs { InputIds = Read<long>(f, "input_ids"), Batch = b, AttentionMask = Read<long>(f, "attention_mask") };
        if (f.Contains("pixel_values"))
        {
            var pv = f.GetInfo("pixel_values");
            inputs = inputs with
            {
                PixelValues = Read<float>(f, "pixel_values"),
                TilesPerSample = (int)pv.Shape[1],
                TileSize = (int)pv.Shape[3],
                PixelAttentionMask = f.Contains("pixel_attention_mask") ? Read<long>(f, "pixel_attention_mask").Select(v => v != 0).ToArray() : null,
            };
        }
        var logitsInfo = f.GetInfo("logits");
        float[] logits = logitsInfo.DTypeName == "F32"
            ? Read<float>(f, "logits")
            : Read<ushort>(f, "logits").Select(Bf16.ToFloat).ToArray();
        return (inputs, logits, inputs.AttentionMask!, (int)logitsInfo.Shape[2]);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Logits_match_the_pytorch_reference(string name)
    {
        var entry = CaseEntry(name);
        var model = Model(entry.GetProperty("checkpoint").GetString()!);
        var (inputs, expected, mask, v) = Load(name);
        float[] actual;
        using (GradMode.NoGrad()) actual = model.Forward(inputs).ToArray<float>();
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        int at = -1;
        for (int p = 0; p < mask.Length; p++)
        {
            if (mask[p] == 0) continue;
            for (int i = 0; i < v; i++)
            {
                double d = Math.Abs(expected[(long)p * v + i] - actual[(long)p * v + i]);
                if (d > worst) { worst = d; at = p; }
            }
        }
        output.WriteLine($"{name}: max |Δlogit| = {worst:G3}");
        Assert.True(worst <= 1e-4, $"{name}: max |Δlogit| = {worst:G3} at position {at}");
    }

    [Theory]
    [InlineData("image_split")]
    [InlineData("image_split_bf16")]
    public void Greedy_generation_matches_the_reference(string name)
    {
        var entry = CaseEntry(name);
        var model = Model(entry.GetProperty("checkpoint").GetString()!);
        var expected = entry.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt64()).ToArray();
        var (inputs, _, _, _) = Load(name);
        var (tokens, _) = Generator.Generate(model, inputs, new GenerationOptions { MaxNewTokens = expected.Length });
        Assert.Equal(expected, tokens);
    }
}
