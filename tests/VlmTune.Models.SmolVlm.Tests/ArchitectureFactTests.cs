using VlmTune.Checkpoints.SmolVlm;
using VlmTune.Tensors;
using VlmTune.Tensors.Cpu;

namespace VlmTune.Models.SmolVlm.Tests;

/// <summary>Facts from spec smolvlm.md §2 and §7, checked on the engine ops the model uses.</summary>
public class ArchitectureFactTests
{
    static Device Cpu => CpuBackend.Device;

    [Fact]
    public void Pixel_shuffle_token_0_of_a_32x32_grid_concatenates_patches_0_to_3_32_to_35_64_to_67_96_to_99()
    {
        // x[patch, d] = patch index; D = 1, r = 4 (256M): token 0 has 16 channels = the patch ids of its 4×4 block, row-major.
        var x = Ops.FromArray(Enumerable.Range(0, 1024).Select(i => (float)i).ToArray(), new Shape(1, 1024, 1), Cpu);
        var y = Ops.PixelShuffle(x, 4);
        Assert.Equal(new Shape(1, 64, 16), y.Shape);
        var v = y.ToArray<float>();
        Assert.Equal(new float[] { 0, 1, 2, 3, 32, 33, 34, 35, 64, 65, 66, 67, 96, 97, 98, 99 }, v[..16]);
        // General closed form: out[p·(w/r)+q, (i·r+j)·D+d] = x[(p·r+i)·w + (q·r+j), d].
        for (int p = 0; p < 8; p++)
            for (int q = 0; q < 8; q++)
                for (int i = 0; i < 4; i++)
                    for (int j = 0; j < 4; j++)
                        Assert.Equal((p * 4 + i) * 32 + q * 4 + j, v[(p * 8 + q) * 16 + i * 4 + j]);
    }

    [Fact]
    public void Full_tiles_get_identity_positions()
    {
        var mask = new bool[1][] { Enumerable.Repeat(true, 32 * 32).ToArray() };
        Assert.Null(VisionPositions.Compute(mask, 1, 32, 8));   // full → identity path (ids 0..S−1, no mask)
        Assert.Null(VisionPositions.Compute(null, 3, 512, 16));
    }

    [Fact]
    public void Partial_tiles_get_bucketed_positions_and_a_key_mask()
    {
        // 32-px tile, patch 8 → K = 4. Only the top-left 16×24 pixels are real: 2 patch rows × 3 patch columns.
        var pm = new bool[32 * 32];
        for (int y = 0; y < 16; y++) for (int x = 0; x < 24; x++) pm[y * 32 + x] = true;
        var (ids, mask) = VisionPositions.Compute([pm], 1, 32, 8)!.Value;
        Assert.Equal(new[] { 1, 1, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, mask);
        // frac_h = [0, .5] → buckets [0, 2]; frac_w = [0, 1/3, 2/3] → buckets [0, 1, 2]; id = bh·4 + bw.
        Assert.Equal(new long[] { 0, 1, 2, 0, 8, 9, 10, 0, 0, 0, 0, 0, 0, 0, 0, 0 }, ids);
    }

    [Fact]
    public void Rope_rotates_pairs_i_and_i_plus_32_with_theta_1e5()
    {
        int d = 64;
        var x = new float[d];
        x[5] = 1f; // only component 5 set: its rotation partner is 37
        var pos = Ops.FromArray(new long[] { 3 }, new Shape(1), Cpu);
        var y = Ops.Rope(Ops.FromArray(x, new Shape(1, 1, 1, d), Cpu), pos, 1e5f).ToArray<float>();
        double angle = 3 / Math.Pow(1e5, 2.0 * 5 / d);
        Assert.Equal(Math.Cos(angle), y[5], 5);
        Assert.Equal(Math.Sin(angle), y[37], 5);
        Assert.Equal(2, y.Count(v => v != 0));
    }

    [Fact]
    public void Gqa_query_head_h_reads_kv_head_h_over_3()
    {
        // 9 query heads, 3 kv heads: make each kv head's values constant = its index; one key so attention is exact.
        var q = Ops.RandomNormal(new Shape(1, 9, 1, 4), 1, Cpu);
        var k = Ops.RandomNormal(new Shape(1, 3, 1, 4), 2, Cpu);
        var v = Ops.FromArray(Enumerable.Range(0, 12).Select(i => (float)(i / 4)).ToArray(), new Shape(1, 3, 1, 4), Cpu);
        var o = Ops.Attention(q, k, v, causal: true).ToArray<float>();
        for (int h = 0; h < 9; h++) Assert.Equal(h / 3, o[h * 4]);
    }

    [Fact]
    public void Norm_eps_comes_from_the_config()
    {
        var json = """
        {"model_type": "smolvlm", "text_config": {"model_type": "llama", "rms_norm_eps": 0.001, "hidden_size": 64,
          "num_attention_heads": 4, "num_key_value_heads": 2, "head_dim": 16, "intermediate_size": 128,
          "num_hidden_layers": 1, "vocab_size": 300},
         "vision_config": {"hidden_size": 32, "intermediate_size": 64, "num_hidden_layers": 1, "num_attention_heads": 2,
          "image_size": 32, "patch_size": 8, "layer_norm_eps": 0.01}, "scale_factor": 2, "image_token_id": 299}
        """;
        var cfg = SmolVlmConfig.Parse(json);
        Assert.Equal(1e-3, cfg.Text.RmsNormEps);
        Assert.Equal(1e-2, cfg.Vision.LayerNormEps);
        // The model's norms use exactly these: an all-equal input c·1 through RMSNorm (w = 1) gives c/sqrt(c² + eps).
        var m = new SmolVlmModel(new Support.SeededWeights(1, std: 0f), cfg);
        var h = Ops.Full(new Shape(1, 1, 64), 0.05f, Cpu);
        var y = m.Text.Forward(h, Ops.FromArray(new long[] { 0 }, new Shape(1), Cpu), null, null).ToArray<float>();
        // With std 0 every projection is zero, so the decoder output is the final norm of the input.
        Assert.Equal(0.05 / Math.Sqrt(0.05 * 0.05 + 1e-3), y[0], 4);
    }
}
