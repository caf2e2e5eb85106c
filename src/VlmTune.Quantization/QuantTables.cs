namespace VlmTune.Quantization;

/// <summary>
/// The exact code tables of bitsandbytes, stored as f32 bit patterns so no decimal parsing can move a last bit.
/// Sources (bitsandbytes-foundation/bitsandbytes, functional.py): <c>get_4bit_type("nf4")</c>,
/// <c>get_4bit_type("fp4")</c> (the FP4 list divided by its abs max 12 in f32; its "-0" entry is the integer 0,
/// so index 8 is +0.0), and <c>create_dynamic_map(signed=True, max_exponent_bits=7, total_bits=8)</c> (256 sorted
/// values from -0.99296875 to 1.0; not symmetric). Verified bit-for-bit against tests/fixtures/quant/quant_cases.json.
/// </summary>
public static class QuantTables
{
    private static readonly uint[] Nf4Bits =
    [
        0xBF800000, 0xBF3239B1, 0xBF066B30, 0xBECA32A0, 0xBE91A24D, 0xBE3D353F, 0xBDBA7871, 0x00000000,
        0x3DA2FAFF, 0x3E24CAE3, 0x3E7C04DD, 0x3EAD033A, 0x3EE1A4B8, 0x3F1007AB, 0x3F3913B3, 0x3F800000,
    ];

    private static readonly uint[] Fp4Bits =
    [
        0x00000000, 0x3BAAAAAB, 0x3F2AAAAB, 0x3F800000, 0x3EAAAAAB, 0x3F000000, 0x3E2AAAAB, 0x3E800000,
        0x00000000, 0xBBAAAAAB, 0xBF2AAAAB, 0xBF800000, 0xBEAAAAAB, 0xBF000000, 0xBE2AAAAB, 0xBE800000,
    ];

    private static readonly uint[] DynamicSignedBits =
    [
        0xBF7E3333, 0xBF7A9999, 0xBF770000, 0xBF736666, 0xBF6FCCCC, 0xBF6C3333, 0xBF68999A, 0xBF650000,
        0xBF616666, 0xBF5DCCCC, 0xBF5A3333, 0xBF569999, 0xBF530000, 0xBF4F6666, 0xBF4BCCCC, 0xBF483333,
        0xBF44999A, 0xBF410000, 0xBF3D6667, 0xBF39CCCD, 0xBF363334, 0xBF32999A, 0xBF2F0000, 0xBF2B6667,
        0xBF27CCCD, 0xBF243333, 0xBF20999A, 0xBF1D0000, 0xBF196666, 0xBF15CCCD, 0xBF123334, 0xBF0E999A,
        0xBF0B0000, 0xBF076666, 0xBF03CCCD, 0xBF003333, 0xBEF93334, 0xBEF20000, 0xBEEACCCC, 0xBEE3999A,
        0xBEDC6666, 0xBED53332, 0xBECE0000, 0xBEC6CCCC, 0xBEBF999A, 0xBEB86666, 0xBEB13332, 0xBEAA0000,
        0xBEA2CCCC, 0xBE9B999A, 0xBE946666, 0xBE8D3334, 0xBE860000, 0xBE7D999A, 0xBE6F3334, 0xBE60CCCD,
        0xBE526666, 0xBE440000, 0xBE359999, 0xBE273333, 0xBE18CCCD, 0xBE0A6666, 0xBDF80000, 0xBDDB3334,
        0xBDC9EB85, 0xBDC428F5, 0xBDBE6667, 0xBDB8A3D7, 0xBDB2E148, 0xBDAD1EB8, 0xBDA75C28, 0xBDA1999A,
        0xBD9BD70A, 0xBD96147B, 0xBD9051EB, 0xBD8A8F5D, 0xBD84CCCD, 0xBD7E147A, 0xBD728F5D, 0xBD670A3D,
        0xBD5B851F, 0xBD500000, 0xBD447AE1, 0xBD38F5C3, 0xBD2D70A3, 0xBD21EB85, 0xBD166667, 0xBD0AE147,
        0xBCFEB852, 0xBCE7AE13, 0xBCD0A3D7, 0xBCB9999A, 0xBCA28F5C, 0xBC8B851F, 0xBC68F5C3, 0xBC3AE148,
        0xBC1F3B64, 0xBC160418, 0xBC0CCCCD, 0xBC039581, 0xBBF4BC6A, 0xBBE24DD3, 0xBBCFDF3B, 0xBBBD70A4,
        0xBBAB020D, 0xBB989374, 0xBB8624DD, 0xBB676C8A, 0xBB428F5C, 0xBB1DB22D, 0xBAF1A9FC, 0xBAA7EF9D,
        0xBA7765FF, 0xBA59E83E, 0xBA3C6A80, 0xBA1EECC1, 0xBA016F01, 0xB9C7E283, 0xB98CE705, 0xB923D70B,
        0xB8BA1F4B, 0xB88AEFB3, 0xB8378034, 0xB7B24206, 0xB70205FF, 0xB65A1A94, 0xB513A3B7, 0x00000000,
        0x3513A3B7, 0x365A1A94, 0x370205FF, 0x37B24206, 0x38378034, 0x388AEFB3, 0x38BA1F4B, 0x3923D70B,
        0x398CE705, 0x39C7E283, 0x3A016F01, 0x3A1EECC1, 0x3A3C6A80, 0x3A59E83E, 0x3A7765FF, 0x3AA7EF9D,
        0x3AF1A9FC, 0x3B1DB22D, 0x3B428F5C, 0x3B676C8A, 0x3B8624DD, 0x3B989374, 0x3BAB020D, 0x3BBD70A4,
        0x3BCFDF3B, 0x3BE24DD3, 0x3BF4BC6A, 0x3C039581, 0x3C0CCCCD, 0x3C160418, 0x3C1F3B64, 0x3C3AE148,
        0x3C68F5C3, 0x3C8B851F, 0x3CA28F5C, 0x3CB9999A, 0x3CD0A3D7, 0x3CE7AE13, 0x3CFEB852, 0x3D0AE147,
        0x3D166667, 0x3D21EB85, 0x3D2D70A3, 0x3D38F5C3, 0x3D447AE1, 0x3D500000, 0x3D5B851F, 0x3D670A3D,
        0x3D728F5D, 0x3D7E147A, 0x3D84CCCD, 0x3D8A8F5D, 0x3D9051EB, 0x3D96147B, 0x3D9BD70A, 0x3DA1999A,
        0x3DA75C28, 0x3DAD1EB8, 0x3DB2E148, 0x3DB8A3D7, 0x3DBE6667, 0x3DC428F5, 0x3DC9EB85, 0x3DDB3334,
        0x3DF80000, 0x3E0A6666, 0x3E18CCCD, 0x3E273333, 0x3E359999, 0x3E440000, 0x3E526666, 0x3E60CCCD,
        0x3E6F3334, 0x3E7D999A, 0x3E860000, 0x3E8D3334, 0x3E946666, 0x3E9B999A, 0x3EA2CCCC, 0x3EAA0000,
        0x3EB13332, 0x3EB86666, 0x3EBF999A, 0x3EC6CCCC, 0x3ECE0000, 0x3ED53332, 0x3EDC6666, 0x3EE3999A,
        0x3EEACCCC, 0x3EF20000, 0x3EF93334, 0x3F003333, 0x3F03CCCD, 0x3F076666, 0x3F0B0000, 0x3F0E999A,
        0x3F123334, 0x3F15CCCD, 0x3F196666, 0x3F1D0000, 0x3F20999A, 0x3F243333, 0x3F27CCCD, 0x3F2B6667,
        0x3F2F0000, 0x3F32999A, 0x3F363334, 0x3F39CCCD, 0x3F3D6667, 0x3F410000, 0x3F44999A, 0x3F483333,
        0x3F4BCCCC, 0x3F4F6666, 0x3F530000, 0x3F569999, 0x3F5A3333, 0x3F5DCCCC, 0x3F616666, 0x3F650000,
        0x3F68999A, 0x3F6C3333, 0x3F6FCCCC, 0x3F736666, 0x3F770000, 0x3F7A9999, 0x3F7E3333, 0x3F800000,
    ];

    private static readonly float[] Nf4Values = FromBits(Nf4Bits);
    private static readonly float[] Fp4Values = FromBits(Fp4Bits);
    private static readonly float[] DynamicSignedValues = FromBits(DynamicSignedBits);

    /// <summary>NF4 code values, index = 4-bit code.</summary>
    public static ReadOnlySpan<float> Nf4 => Nf4Values;

    /// <summary>FP4 code values, index = 4-bit code (bit 3 = sign).</summary>
    public static ReadOnlySpan<float> Fp4 => Fp4Values;

    /// <summary>The signed 8-bit dynamic map used by double quantisation (256 sorted values).</summary>
    public static ReadOnlySpan<float> DynamicSigned => DynamicSignedValues;

    /// <summary>The 16-entry table of <paramref name="type"/>.</summary>
    public static ReadOnlySpan<float> For(QuantType type) => type switch
    {
        QuantType.Nf4 => Nf4Values,
        QuantType.Fp4 => Fp4Values,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown 4-bit quant type"),
    };

    /// <summary>The 4-bit code whose value is 0.0 (the pad nibble of an odd-length tensor): NF4 7, FP4 0.</summary>
    public static byte ZeroCode(QuantType type) => type == QuantType.Nf4 ? (byte)7 : (byte)0;

    /// <summary>A fresh copy of the dynamic map (QuantState stores it cloned, not shared).</summary>
    public static float[] DynamicSignedCopy() => (float[])DynamicSignedValues.Clone();

    private static float[] FromBits(uint[] bits)
    {
        var values = new float[bits.Length];
        for (int i = 0; i < bits.Length; i++) values[i] = BitConverter.UInt32BitsToSingle(bits[i]);
        return values;
    }
}
