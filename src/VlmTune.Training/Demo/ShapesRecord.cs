namespace VlmTune.Training.Demo;

/// <summary>
/// One example of the "shapes" task: an image, one question, the short exact answer (SFT target and DPO chosen) and a
/// verbose wrong answer (DPO rejected), with the ground truth that produced them.
/// </summary>
/// <param name="Id">"train-0007" / "eval-0002".</param>
/// <param name="ImagePath">The PNG's path relative to the dataset folder ("images/train-0007.png").</param>
/// <param name="Truth">The ground-truth answer without punctuation ("red", "2"); compare with <see cref="ShapesTask.Score"/>.</param>
public sealed record ShapesRecord(string Id, string ImagePath, ShapesQuestion Question, string QuestionText,
    string Answer, string RejectedAnswer, string Truth, ShapeColour Colour, IReadOnlyList<ShapeInstance> Shapes);
