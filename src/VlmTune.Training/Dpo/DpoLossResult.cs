using VlmTune.Tensors;

namespace VlmTune.Training.Dpo;

/// <summary>
/// What <see cref="DpoLoss.Compute"/> returns. B = pairs in the batch.
/// </summary>
/// <param name="Loss">() scalar: mean over the batch of the per-pair loss; differentiable w.r.t. the inputs.</param>
/// <param name="ChosenRewards">(B) β·(πc − rc), detached (no graph).</param>
/// <param name="RejectedRewards">(B) β·(πr − rr), detached (no graph).</param>
/// <param name="ChosenNll">() the chosen completions' mean token NLL when RPO is on (TRL's <c>nll_loss</c>), detached; else null.</param>
public sealed record DpoLossResult(Tensor Loss, Tensor ChosenRewards, Tensor RejectedRewards, Tensor? ChosenNll = null);
