using System.Security.Cryptography;
using VlmTune.Checkpoints.SafeTensors;

namespace VlmTune.Training;

/// <summary>What the image-feature cache's key binds to on the model side (see <see cref="Data.Loading.ImageFeatureCache"/>).</summary>
public static class FeatureCacheWeights
{
    /// <summary>
    /// SHA-256 over every vision-tower and connector tensor of the checkpoint (name, dtype, shape, bytes; files and
    /// tensors in name order) and the 4-bit settings, which change what the frozen towers compute when they are quantised.
    /// </summary>
    public static string Fingerprint(string modelDir, Models.SmolVlm.Quantization.QuantizeSettings? q)
    {
        using var h = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var file in Directory.GetFiles(modelDir, "*.safetensors").Order(StringComparer.Ordinal))
        {
            using var f = SafeTensorsFile.Open(file);
            foreach (var name in f.Names.Where(n => n.Contains("vision_model") || n.Contains("connector")).Order(StringComparer.Ordinal))
            {
                var info = f.GetInfo(name);
                h.AppendData(System.Text.Encoding.UTF8.GetBytes($"{name}|{info.DType}|{string.Join(',', info.Shape)};"));
                h.AppendData(f.GetBytes(name));
            }
        }
        if (q != null) h.AppendData(System.Text.Encoding.UTF8.GetBytes($"q:{q.Type};{q.Blocksize};{q.DoubleQuant};{string.Join(',', q.Skip)}"));
        return Convert.ToHexStringLower(h.GetHashAndReset());
    }

}
