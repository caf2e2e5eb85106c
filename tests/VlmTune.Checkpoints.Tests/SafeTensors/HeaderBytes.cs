using System.Buffers.Binary;
using System.Text;

namespace VlmTune.Checkpoints.Tests.SafeTensors;

/// <summary>Builds raw safetensors byte images from hand-written header JSON, for the validation-rule tests.</summary>
internal static class HeaderBytes
{
    /// <summary>[u64 n][json][dataLength zero bytes]; <paramref name="declared"/> overrides n.</summary>
    public static byte[] Make(string json, int dataLength = 0, ulong? declared = null) =>
        Make(Encoding.UTF8.GetBytes(json), dataLength, declared);

    public static byte[] Make(byte[] json, int dataLength = 0, ulong? declared = null)
    {
        var bytes = new byte[8 + json.Length + dataLength];
        BinaryPrimitives.WriteUInt64LittleEndian(bytes, declared ?? (ulong)json.Length);
        json.CopyTo(bytes, 8);
        return bytes;
    }
}
