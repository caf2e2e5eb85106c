using VlmTune.Tensors;
using VlmTune.Tensors.Autograd;

namespace VlmTune.Nn.Lora;

/// <summary>
/// LoRA / rsLoRA / DoRA on one <see cref="Linear"/> (PEFT tuners/lora/layer.py, dora.py, variants.py).
/// Legend: in/out = the layer's features, r = rank, s = scaling, x (..., in), W (out, in) frozen (f32 or bf16).
///
///   A (r, in), B (out, r): f32 trainable leaves; B = 0 at creation, so a fresh adapter is a no-op.
///   LoRA:  y = base(x) + s · (drop(x)·Aᵀ)·Bᵀ                          (dropout on the LoRA input only)
///   DoRA:  m (out) trainable, initialised to ‖W + s·B·A‖_row; n = ‖W + s·B·A‖_row computed without gradient
///          (DoRA §4.3, PEFT detaches it). With g = m / n:
///            y = base(x) + (g − 1) ∘ y₀ + g ∘ s · (drop(x)·Aᵀ)·Bᵀ
///          where y₀ = base(x) − bias when dropout is off (eval, p = 0) — reusing the base output, bias untouched —
///          and y₀ = drop(x)·Wᵀ (no bias) when dropout is active, exactly PEFT's DoraLinearVariant.forward.
///          With dropout off this is (m/n) ∘ (W + s·B·A)·x + bias.
///   Disabled (<see cref="Enabled"/> = false) ⇒ the base output is returned untouched (DPO's reference model).
/// Precision (PEFT's: the input is cast to the adapter's dtype): the LoRA branch runs in f32 whatever the activation
/// dtype — x (bf16 or f32) · Aᵀ accumulates into an f32 (…, r) — and the adapter's contribution is cast to the base
/// output's dtype before the add, so bf16 activations stay bf16 while A, B, m and their gradients are f32.
/// </summary>
public sealed class LoraAdapter : ILinearAdapter
{
    readonly ulong _pathHash;

    /// <summary>HF module path, e.g. "model.text_model.layers.0.self_attn.q_proj".</summary>
    public string Path { get; }
    public LoraOptions Options { get; }
    public float Scaling { get; }
    /// <summary>(r, in) f32 trainable.</summary>
    public Tensor A { get; }
    /// <summary>(out, r) f32 trainable.</summary>
    public Tensor B { get; }
    /// <summary>(out) f32 trainable DoRA magnitude; null for plain LoRA.</summary>
    public Tensor? Magnitude { get; }
    /// <summary>Dropout stream and train/eval flag; null = no dropout.</summary>
    public DropoutContext? Dropout { get; set; }
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// Creates a fresh adapter for <paramref name="layer"/>: A drawn from (seed, path) per <see cref="LoraOptions.Init"/>,
    /// B = 0, m = ‖W‖_row for DoRA.
    /// </summary>
    public LoraAdapter(string path, Linear layer, LoraOptions options, ulong seed, DropoutContext? dropout = null)
    {
        ArgumentNullException.ThrowIfNull(layer);
        options.Validate();
        Path = path;
        Options = options;
        Scaling = (float)options.Scaling;
        Dropout = dropout;
        _pathHash = LoraSeeds.HashPath(path);
        int r = options.Rank, inF = layer.InFeatures, outF = layer.OutFeatures;
        var device = layer.Device;
        ulong seedA = LoraSeeds.For(seed, path, "lora_A");
        A = options.Init switch
        {
            LoraInit.KaimingUniform => Ops.RandomUniform(new Shape(r, inF), seedA, device, -KaimingBound(inF), KaimingBound(inF)),
            LoraInit.Gaussian => Ops.RandomNormal(new Shape(r, inF), seedA, device, 0f, 1f / r),
            _ => throw new ArgumentOutOfRangeException(nameof(options), options.Init, "unknown LoRA init"),
        };
        B = Ops.Zeros(new Shape(outF, r), DType.F32, device);
        Name(A, "lora_A.weight");
        Name(B, "lora_B.weight");
        A.RequireGrad();
        B.RequireGrad();
        if (options.UseDora)
        {
            Magnitude = RowNorm(layer);
            Name(Magnitude, "lora_magnitude_vector");
            Magnitude.RequireGrad();
        }
    }

    /// <summary>
    /// torch.nn.init.kaiming_uniform_(A, a=√5) on an (r, in) matrix: fan_in = in, gain = √(2/(1+a²)),
    /// bound = gain·√(3/fan_in) = 1/√in.
    /// </summary>
    public static float KaimingBound(int fanIn)
    {
        double a = Math.Sqrt(5.0);
        double gain = Math.Sqrt(2.0 / (1.0 + a * a));
        return (float)(gain * Math.Sqrt(3.0 / fanIn));
    }

    /// <summary>The trainable tensors with their PEFT name suffixes (A, B, then m), in a stable order.</summary>
    public IReadOnlyList<(string Suffix, Tensor Tensor)> Parameters()
    {
        var list = new List<(string, Tensor)> { ("lora_A.weight", A), ("lora_B.weight", B) };
        if (Magnitude != null) list.Add(("lora_magnitude_vector", Magnitude));
        return list;
    }

    public Tensor Forward(Linear layer, Tensor x, Tensor baseOutput)
    {
        if (!Enabled) return baseOutput;
        bool drop = Dropout is { Training: true } && Options.Dropout > 0f;
        var xd = x;
        if (drop)
        {
            var (s, offset) = Dropout!.StreamFor(_pathHash);
            xd = Ops.Dropout(x, Options.Dropout, s, offset);
        }
        var lora = Ops.Linear(Ops.Linear(xd, A, dtype: DType.F32), B);              // (..., out), f32
        // Scaling = alpha / r is often 1 (the cookbook recipes): then no (..., out) pass multiplies by it.
        if (Magnitude == null)
            return Ops.Add(baseOutput, Ops.ToDType(Scaling == 1f ? lora : Ops.Scale(lora, Scaling), baseOutput.DType));

        Tensor norm;                                                                   // (out), constant
        using (GradMode.NoGrad()) norm = RowNorm(layer);
        var g = Ops.Div(Magnitude, norm);                                              // (out): grad reaches m only
        Tensor y0;                                                                     // (..., out), no bias
        if (drop) y0 = layer.IsQuantized ? Ops.Linear4Bit(xd, layer.Quantized!) : Ops.Linear(xd, layer.Weight);
        else y0 = layer.Bias == null ? baseOutput : Ops.Sub(baseOutput, layer.Bias);
        // (g − 1)∘y0 + (g·s)∘lora: the scaling folds into the (out) vector, not into a (..., out) pass.
        var gs = Scaling == 1f ? g : Ops.Scale(g, Scaling);
        var dora = Ops.Add(Ops.Mul(Ops.AddScalar(g, -1f), y0), Ops.Mul(gs, lora));   // f32 (g is f32)
        return Ops.Add(baseOutput, Ops.ToDType(dora, baseOutput.DType));
    }

    /// <summary>‖W + s·B·A‖ per output row (out), with W widened to f32; no graph is recorded for W.</summary>
    public Tensor RowNorm(Linear layer)
    {
        using var _ = GradMode.NoGrad();
        var w = layer.DequantizedWeight().Detach();                                     // (out, in), f32 (dequantised under QLoRA)
        var delta = Ops.Scale(Ops.MatMul(B.Detach(), A.Detach()), Scaling);            // (out, in)
        return Ops.Sqrt(Ops.Sum(Ops.Square(Ops.Add(w, delta)), 1));
    }

    /// <summary>s·B·A (out, in): the weight change of the LoRA part (what a merge adds for plain LoRA).</summary>
    public Tensor DeltaWeight()
    {
        using var _ = GradMode.NoGrad();
        return Ops.Scale(Ops.MatMul(B.Detach(), A.Detach()), Scaling);
    }

    /// <summary>Overwrites A, B (and m) with host values, checking every shape (used when loading an adapter file).</summary>
    public void Load(float[] a, float[] b, float[]? magnitude)
    {
        Copy(A, a, "lora_A.weight");
        Copy(B, b, "lora_B.weight");
        if ((magnitude == null) != (Magnitude == null))
            throw new ArgumentException($"{Path}: lora_magnitude_vector is {(Magnitude == null ? "present but DoRA is off" : "missing but DoRA is on")}");
        if (magnitude != null) Copy(Magnitude!, magnitude, "lora_magnitude_vector");
    }

    void Copy(Tensor target, float[] values, string suffix)
    {
        if (values.Length != target.Numel)
            throw new ArgumentException($"{Path}.{suffix}: {values.Length} values for shape {target.Shape}");
        target.Backend.CopyFromHost(System.Runtime.InteropServices.MemoryMarshal.AsBytes(values.AsSpan()), target);
    }

    void Name(Tensor t, string suffix) => t.Name = Path + "." + suffix;
}
