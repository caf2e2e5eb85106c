using VlmTune.Data.Collation;
using VlmTune.Data.Datasets;
using VlmTune.Data.Encoding;
using VlmTune.Data.Tests.Support;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Data.Tests.Collation;

public class DpoCollatorTests
{
    static List<EncodedPair> Pairs()
    {
        var encoder = new PreferenceEncoder(TestData.Tiny);
        using var ds = DatasetReader.OpenPreference(Path.Combine(TestData.FixtureDir, "dpo.jsonl"));
        return Enumerable.Range(0, ds.Count).Select(i => encoder.Encode(ds.Read(i))!).ToList();
    }

    [Fact]
    public void Chosen_then_rejected_with_shared_pixels()
    {
        var pairs = Pairs();
        var batch = new DpoCollator(TestData.Tiny).Collate(pairs);
        int b = 2, t = batch.SequenceLength;
        Assert.Equal(pairs.Max(p => p.Length), t);
        Assert.Equal(2 * b * t, batch.InputIds.Length);
        Assert.Equal(b * batch.MaxTiles * 3 * 32 * 32, batch.PixelValues.Length);   // images once per pair, not twice
        Assert.Equal(5, batch.MaxTiles);
        for (int i = 0; i < b; i++)
        {
            Assert.Equal(i, batch.PixelRowOf(i));
            Assert.Equal(i, batch.PixelRowOf(b + i));
            Check(i, pairs[i].PromptIds, pairs[i].ChosenIds);
            Check(b + i, pairs[i].PromptIds, pairs[i].RejectedIds);
            Assert.Equal(pairs[i].PromptIds.Length, batch.PromptLengths[i]);
        }

        void Check(int row, int[] prompt, int[] completion)
        {
            for (int j = 0; j < t; j++)
            {
                int k = row * t + j;
                if (j < prompt.Length) Assert.Equal((prompt[j], -100L, 0L, 1L), (batch.InputIds[k], batch.Labels[k], batch.CompletionMask[k], batch.AttentionMask[k]));
                else if (j < prompt.Length + completion.Length)
                {
                    long id = completion[j - prompt.Length];
                    Assert.Equal((id, id, 1L, 1L), (batch.InputIds[k], batch.Labels[k], batch.CompletionMask[k], batch.AttentionMask[k]));
                }
                else Assert.Equal((2L, -100L, 0L, 0L), (batch.InputIds[k], batch.Labels[k], batch.CompletionMask[k], batch.AttentionMask[k]));
            }
        }
    }

    [Fact]
    public void To_tensors_shapes()
    {
        var batch = new DpoCollator(TestData.Tiny).Collate(Pairs());
        var x = batch.ToTensors(CpuBackend.Device);
        Assert.Equal(new Shape(4, batch.SequenceLength), x.InputIds.Shape);
        Assert.Equal(new Shape(4, batch.SequenceLength), x.CompletionMask.Shape);
        Assert.Equal(new Shape(2, 5, 3, 32, 32), x.PixelValues!.Shape);
        Assert.Equal(new Shape(2, 5), x.TileMask!.Shape);
    }
}
