namespace VlmTune.Recipes;

/// <summary>What a user asked to compute on: <c>auto</c>, <c>cpu</c>, <c>cuda</c> (GPU 0) or <c>cuda:N</c>.</summary>
public readonly record struct DeviceSpec(DeviceChoice Choice, int Ordinal)
{
    public static DeviceSpec Auto => new(DeviceChoice.Auto, 0);

    public static bool TryParse(string? text, out DeviceSpec spec)
    {
        spec = Auto;
        var t = (text ?? "").Trim().ToLowerInvariant();
        switch (t)
        {
            case "auto": return true;
            case "cpu": spec = new(DeviceChoice.Cpu, 0); return true;
            case "cuda" or "gpu": spec = new(DeviceChoice.Cuda, 0); return true;
        }
        if (t.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(t.AsSpan(5), System.Globalization.NumberStyles.None, null, out int n))
        {
            spec = new(DeviceChoice.Cuda, n);
            return true;
        }
        return false;
    }

    public override string ToString() => Choice switch
    {
        DeviceChoice.Cpu => "cpu",
        DeviceChoice.Cuda => Ordinal == 0 ? "cuda" : $"cuda:{Ordinal}",
        _ => "auto",
    };
}

public enum DeviceChoice : byte { Auto, Cpu, Cuda }
