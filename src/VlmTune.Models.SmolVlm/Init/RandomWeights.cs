using VlmTune.Nn;
using VlmTune.Tensors;

namespace VlmTune.Models.SmolVlm.Init;

/// <summary>
/// <see cref="RandomInit"/>'s tensors as a weight source: <c>new SmolVlmModel(new RandomWeights(init, device), config)</c>
/// builds the same model that <see cref="SmolVlmModel.Load"/> reads back from <see cref="CheckpointInitializer"/>'s folder.
/// Matrices stay in the storage dtype; f32 requests get the widened stored values.
/// </summary>
public sealed class RandomWeights(RandomInit init, Device device) : IWeightSource
{
    public RandomInit Init { get; } = init ?? throw new ArgumentNullException(nameof(init));
    public Device Device { get; } = device ?? throw new ArgumentNullException(nameof(device));

    public Tensor Get(string key, Shape shape, bool f32)
    {
        var expected = Init.ShapeOf(key);
        if (!expected.Select(d => (int)d).SequenceEqual(shape.ToArray()))
            throw new ModelLoadException($"random weights: tensor '{key}' has shape ({string.Join(",", expected)}), the module asked for {shape}");
        int n = checked((int)shape.Numel);
        if (Init.DType == DType.BF16 && !f32)
        {
            var bits = new ushort[n];
            Init.FillBf16(key, 0, bits);
            return Ops.FromArray(bits, shape, Device);
        }
        var values = new float[n];
        Init.FillF32(key, 0, values);
        if (Init.DType == DType.BF16)
            for (int i = 0; i < n; i++) values[i] = BitConverter.UInt32BitsToSingle((uint)RandomInit.ToBf16(values[i]) << 16);
        return Ops.FromArray(values, shape, Device);
    }
}
