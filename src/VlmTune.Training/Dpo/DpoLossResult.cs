using VlmTune.Tensors;

namespace VlmTune.Training.Dpo;

/// <summary>
/// What <see cref="DpoLoss.Compute"/> returns. B = pairs in the batch.
/// </summary>
/// <param name="Loss">() scalar: mean over the batch of the per-pair loss; differentiable w.r.t. the inputs.</param>
/// <param name="ChosenRewards">(B) β·(πc − rc), detached (no graph).</param>
/// <param name="RejectedRewards">(B) β·(πr − rr), detached (no graph).</param>
public sealed record DpoLossResult(Tensor Loss, Tensor ChosenRewards, Tensor RejectedRewards);
