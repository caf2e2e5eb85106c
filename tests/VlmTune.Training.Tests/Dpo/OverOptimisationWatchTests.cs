using VlmTune.Training.Dpo;

namespace VlmTune.Training.Tests.Dpo;

public class OverOptimisationWatchTests
{
    static DpoMetrics M(float accuracy, float margin, float chosen = 0.1f) => new(chosen, chosen - margin, accuracy, margin, -3f, -9f);

    [Fact]
    public void Saturated_accuracy_with_growing_margins_warns_once_and_names_the_steps_and_the_falling_chosen_reward()
    {
        var watch = new OverOptimisationWatch(window: 10);
        var warnings = new List<string>();
        for (int step = 1; step <= 40; step++)
        {
            var m = step < 5 ? M(0.5f, 0.1f * step) : M(1f, 0.5f * step, chosen: -0.2f * step);
            if (watch.Observe(step, m) is { } w) warnings.Add($"{step}: {w}");
        }
        var only = Assert.Single(warnings);
        Assert.StartsWith("14: DPO over-optimisation", only);
        Assert.Contains("steps 5–14", only);
        Assert.Contains("rewards/chosen", only);
        Assert.Contains("train.max_steps", only);
    }

    [Fact]
    public void Chosen_answers_that_stay_put_are_not_called_displaced()
    {
        // The demo's easy pairs: margins grow to ~11 while rewards/chosen stays at -0.0002.
        var watch = new OverOptimisationWatch(window: 10);
        string? warning = null;
        for (int step = 1; step <= 20 && warning == null; step++) warning = watch.Observe(step, M(1f, 0.5f * step, chosen: -0.0002f));
        Assert.NotNull(warning);
        Assert.DoesNotContain("lose probability", warning);
        Assert.Contains("train.max_steps", warning);
    }

    [Theory]
    [InlineData(0.75f, true)]   // not saturated: some pairs still ranked wrong
    [InlineData(1f, false)]     // saturated but the margins have stopped growing
    public void No_warning_while_the_pairs_still_teach_or_the_margin_is_flat(float accuracy, bool growing)
    {
        var watch = new OverOptimisationWatch(window: 10);
        for (int step = 1; step <= 40; step++)
            Assert.Null(watch.Observe(step, M(accuracy, growing ? 0.5f * step : 4f + 0.01f * (step % 3))));
    }
}
