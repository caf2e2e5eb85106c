namespace VlmTune.Tensors;

/// <summary>Elementwise functions of one tensor; <c>Scale</c>/<c>AddScalar</c>/<c>Pow</c> use the scalar argument.</summary>
public enum UnaryOp : byte { Neg, Exp, Log, Sqrt, Rsqrt, Square, Abs, Scale, AddScalar, GeluTanh, Silu, Sigmoid, Tanh, Relu }

/// <summary>Elementwise functions of two tensors (the backend receives both already expanded to the output shape).</summary>
public enum BinaryOp : byte { Add, Sub, Mul, Div, Max, Min }

/// <summary>Settings of one AdamW step (decoupled weight decay, bias correction as in torch.optim.AdamW).</summary>
public readonly record struct AdamWStep(float Lr, float Beta1, float Beta2, float Eps, float WeightDecay, int Step);

/// <summary>Attention settings. Query i of a sequence sits at position i + QOffset; causal masks keys after it.</summary>
public readonly record struct AttentionParams(float Scale, bool Causal, int QOffset);

/// <summary>
/// What a compute backend implements. The dispatch path is: <see cref="Ops"/> (shape and dtype checks,
/// output allocation, autograd records) → one method here → the backend's kernel. Arguments are device tensors;
/// unless a method says otherwise, every tensor argument is contiguous and outputs are written, not accumulated.
/// Every float tensor argument (inputs, outputs, accumulators) may be f32 or bf16, in any mix (e.g. a bf16
/// activation and an f32 LoRA output): backends widen on load, compute in f32 (GEMMs accumulate in f32; norms,
/// softmax, attention and losses keep statistics in f32) and round to nearest even on store. <see cref="Ops"/>
/// allocates cached statistics (mean, rstd, lse), label log-probs, counts and AdamW state as f32. Integer tensors
/// (ids, labels, indices, masks) are i32 or i64 as each method says. No method reads device values back to the host
/// except <see cref="CopyToHost"/>, so a backend may queue all work on a stream.
/// <para>
/// Primitive tier: memory, copy/convert, unary, binary, reductions, matmul, gather/scatter, RNG.
/// Fused tier (named kernels with forward/backward pairs): norms, softmax, attention, RoPE, label log-probs,
/// embedding, AdamW, gradient norms.
/// </para>
/// </summary>
public interface IBackend
{
    Device Device { get; }
    string Name { get; }

    // ---- memory ----
    Storage Allocate(long bytes, bool zeroed);
    void CopyFromHost(ReadOnlySpan<byte> source, Tensor destination);
    void CopyToHost(Tensor source, Span<byte> destination);
    /// <summary>dst = src elementwise, any strides on both sides (src may be a broadcast view), converting dtype.</summary>
    void Copy(Tensor source, Tensor destination);
    void Fill(Tensor destination, float value);

    // ---- elementwise ----
    void Unary(UnaryOp op, Tensor x, Tensor y, float scalar = 0f);
    /// <summary>dx = f'(x) · dy (x is the forward input; for Sqrt/Rsqrt/Exp the backend may use y instead).</summary>
    void UnaryBackward(UnaryOp op, Tensor x, Tensor y, Tensor dy, Tensor dx, float scalar = 0f);
    /// <summary>y = a ∘ b; a and b have y's shape but may be strided/broadcast views (stride 0).</summary>
    void Binary(BinaryOp op, Tensor a, Tensor b, Tensor y);

    // ---- reductions ----
    /// <summary>y = sum of x over the axes where <paramref name="reduce"/> is true; y has x's rank with those axes = 1.</summary>
    void Sum(Tensor x, bool[] reduce, Tensor y);
    /// <summary>y[...,0] = max over the last axis.</summary>
    void MaxLastAxis(Tensor x, Tensor y);

    // ---- matmul ----
    /// <summary>
    /// c[b] = (accumulate ? c[b] : 0) + alpha · op(a[b]) · op(b[b]) for rank-3 a, b, c (batch first); a batch of 1 in
    /// a or b broadcasts. op(t) = t transposed on its last two axes when the flag is set. a, b and c may each be f32
    /// or bf16; the products accumulate in f32 (with a bf16 c and accumulate, c is widened, added to and rounded once).
    /// </summary>
    void MatMul(Tensor a, bool transA, Tensor b, bool transB, Tensor c, float alpha, bool accumulate);

    /// <summary>
    /// y (N, out) = x (N, in) · dequant(w)ᵀ (+ accumulate), dequantising <paramref name="w"/> a tile of rows at a time
    /// inside the product (the whole weight is never widened at once).
    /// </summary>
    void MatMul4Bit(Tensor x, Quantization.Packed4BitWeight w, Tensor y, bool accumulate);
    /// <summary>dx (N, in) = dy (N, out) · dequant(w) — the input gradient; a frozen 4-bit weight has no gradient.</summary>
    void MatMul4BitInputGrad(Tensor dy, Quantization.Packed4BitWeight w, Tensor dx);
    /// <summary>The whole weight dequantised into dst (out, in) f32 or bf16 (for merges and DoRA norms, not for the forward).</summary>
    void Dequantize4Bit(Quantization.Packed4BitWeight w, Tensor destination);

    // ---- indexing ----
    /// <summary>y[n,:] = w[ids[n],:] (ids i32/i64, w f32/bf16/f16, y f32/bf16).</summary>
    void Embedding(Tensor ids, Tensor weight, Tensor y);
    /// <summary>dw[ids[n],:] += dy[n,:].</summary>
    void EmbeddingBackward(Tensor ids, Tensor dy, Tensor dw);
    /// <summary>torch.gather: y[..i..] = x[..index[..i..].. on axis ..]; rank-k tensors.</summary>
    void Gather(Tensor x, int axis, Tensor index, Tensor y);
    /// <summary>dx[.. index[..i..] on axis ..] += dy[..i..].</summary>
    void ScatterAdd(Tensor dy, int axis, Tensor index, Tensor dx);

    // ---- fused: normalisation and softmax ----
    /// <summary>x,y: (N,C); w,b: (C); mean, rstd: (N) cached for the backward.</summary>
    void LayerNorm(Tensor x, Tensor weight, Tensor? bias, float eps, Tensor y, Tensor mean, Tensor rstd);
    /// <summary>dx = (written), dw/db += (accumulated; may be null when frozen).</summary>
    void LayerNormBackward(Tensor x, Tensor weight, Tensor mean, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw, Tensor? db);
    /// <summary>x,y: (N,C); w: (C); rstd: (N) cached.</summary>
    void RmsNorm(Tensor x, Tensor weight, float eps, Tensor y, Tensor rstd);
    void RmsNormBackward(Tensor x, Tensor weight, Tensor rstd, Tensor dy, Tensor dx, Tensor? dw);
    /// <summary>Softmax (or log-softmax) over the last axis of (N,C).</summary>
    void Softmax(Tensor x, Tensor y, bool log);
    /// <summary>dx from the forward output y: softmax dx = y(dy − Σ y·dy); log-softmax dx = dy − exp(y)Σdy.</summary>
    void SoftmaxBackward(Tensor y, Tensor dy, Tensor dx, bool log);

    // ---- fused: attention and rotary embedding ----
    /// <summary>
    /// q: (B,H,T,D), k,v: (B,Hkv,S,D) with H a multiple of Hkv (query head h reads kv head h / (H/Hkv));
    /// keyMask: null or i32 (B,S) — keys whose entry is 0 are masked (padding); o: (B,H,T,D); lse: (B,H,T) cached
    /// (log-sum-exp of the scaled, masked scores; rows with no visible key give o = 0). k and v may be strided on their
    /// first two axes (each head's S×D block row-major): a view of a preallocated KV cache reaches the kernel uncopied.
    /// </summary>
    void Attention(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse);
    /// <summary>dq, dk, dv written (not accumulated).</summary>
    void AttentionBackward(Tensor q, Tensor k, Tensor v, Tensor? keyMask, AttentionParams p, Tensor o, Tensor lse,
        Tensor dO, Tensor dq, Tensor dk, Tensor dv);
    /// <summary>x,y: (B,H,T,D); positions: i32/i64 (T) or (B,T); inverse rotates by −angle (the backward).</summary>
    void Rope(Tensor x, Tensor positions, float theta, Tensor y, bool inverse);

    // ---- fused: losses ----
    /// <summary>logits: (N,V); labels i32/i64 (N); logp[n] = log_softmax(logits[n])[labels[n]], 0 where the label is
    /// ignoreIndex; lse: (N) cached.</summary>
    void LabelLogProbs(Tensor logits, Tensor labels, int ignoreIndex, Tensor logp, Tensor lse);
    /// <summary>dlogits[n,:] = dlogp[n] · (onehot(label) − softmax(logits[n])) (0 for ignored rows).</summary>
    void LabelLogProbsBackward(Tensor logits, Tensor labels, int ignoreIndex, Tensor lse, Tensor dlogp, Tensor dlogits);
    /// <summary>count[0] = number of labels ≠ ignoreIndex, as f32.</summary>
    void CountValid(Tensor labels, int ignoreIndex, Tensor count);

    // ---- random (counter-based Philox4x32-10: element i of a draw uses counter (offset + i), so backends agree) ----
    void RandomUniform(Tensor destination, ulong seed, ulong offset, float low, float high);
    void RandomNormal(Tensor destination, ulong seed, ulong offset, float mean, float std);
    /// <summary>y = x · keep / (1 − p) where keep[i] = uniform(seed, offset + i) ≥ p.</summary>
    void Dropout(Tensor x, float p, ulong seed, ulong offset, Tensor y);

    // ---- optimiser ----
    /// <summary>In place on param, m, v (same shape as grad; Ops keeps param, m and v f32).</summary>
    void AdamW(Tensor param, Tensor grad, Tensor m, Tensor v, AdamWStep step);
    /// <summary>acc[0] += Σ x² (f32 scalar accumulator, in double inside a call).</summary>
    void SumSquares(Tensor x, Tensor acc);
    /// <summary>x *= min(1, maxNorm / (sqrt(sumSquares[0]) + 1e-6)) — the clipping factor stays on the device.</summary>
    void ClipScale(Tensor x, Tensor sumSquares, float maxNorm);

    /// <summary>Waits for queued work (no-op on the CPU backend).</summary>
    void Synchronize();
}
