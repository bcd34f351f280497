namespace Crate.Core.Contract;

/// <summary>Whether a model is the white-box CRATE variant or the standard transformer it is compared with.</summary>
public enum ModelRole
{
    /// <summary>The CRATE (white-box) model.</summary>
    Crate,
    /// <summary>The standard transformer baseline.</summary>
    Baseline,
}

/// <summary>A model a task can train, e.g. <c>crate</c> (CRATE classifier) or <c>vit</c> (ViT).</summary>
public sealed record ModelInfo(string Name, ModelRole Role, string Description);

/// <summary>
/// A named preset: values for config keys written as on the command line (<c>--set key=value</c>).
/// <see cref="Common"/> applies to every model, <see cref="PerModel"/> on top of it for one model,
/// so both models of a task share one training recipe.
/// </summary>
public sealed record Preset(
    string Name,
    string Description,
    IReadOnlyDictionary<string, string> Common,
    IReadOnlyDictionary<string, IReadOnlyDictionary<string, string>> PerModel)
{
    /// <summary>The values this preset sets for <paramref name="model"/>, model-specific ones last.</summary>
    public IEnumerable<KeyValuePair<string, string>> ValuesFor(string model) =>
        PerModel.TryGetValue(model, out var own) ? Common.Concat(own) : Common;
}

/// <summary>
/// A dataset a task reads. <see cref="ShippedDefault"/> is a folder relative to the repository's
/// <c>data/</c> folder (or null when the user must bring it); <see cref="SystemPath"/> is where a
/// distribution package installs the full set, if any.
/// </summary>
public sealed record DatasetNeed(
    string Name,
    string Description,
    string? ShippedDefault,
    string? SystemPath = null,
    string? HowToGet = null);

/// <summary>
/// A metric a task reports. <see cref="Unit"/> is e.g. "%" or "nats/token". A metric that is the control of another
/// (the same probe on the encoder at its initialisation, fine-tuning from scratch, the raw input) names it in
/// <see cref="Control"/>; the report then shows, per model, treated − control paired by seed with its 95 % interval.
/// </summary>
public sealed record MetricInfo(string Name, string Description, bool HigherIsBetter, string Unit = "", MetricControl? Control = null);

/// <summary>What a control metric stands in for: the treated metric <see cref="Of"/> that the same run measures.</summary>
/// <param name="Of">Name of the treated metric, e.g. <c>linear_top1</c> for <c>init_linear_top1</c>.</param>
/// <param name="Kind">How the control differs from the treated measurement.</param>
public sealed record MetricControl(string Of, ControlKind Kind);

/// <summary>The controls of a pre-training task (what the MAE and DINO papers compare a pre-trained encoder with).</summary>
public enum ControlKind
{
    /// <summary>The same encoder at its initialisation (same seed, no training) through exactly the same probe.</summary>
    Initialisation,
    /// <summary>Fine-tuning from the initial weights with the recipe and budget of fine-tuning the pre-trained encoder.</summary>
    FromScratch,
    /// <summary>The same probe on the raw input (pixels, bag of words): no encoder at all.</summary>
    RawInput,
}

/// <summary>
/// A number the paper reports for (model, metric), with where it comes from and which configuration
/// and data it was measured on (so a report can say when ours is not comparable).
/// </summary>
public sealed record PaperReference(string Model, string Metric, double Value, string Config, string Source);

/// <summary>A named architecture (CRATE-T, ViT-S, ...) and its parameter count.</summary>
public sealed record NamedModelConfig(string Name, string Model, long Parameters, string Description);

/// <summary>
/// One row per evaluation (at an epoch end or every <c>eval_every</c> steps) of one phase of a run. Rows are
/// identified by (run, <see cref="Phase"/>, <see cref="Step"/>): several evaluations within one nominal epoch
/// never overwrite each other. <see cref="Step"/> counts the optimizer steps of the phase.
/// </summary>
public sealed record EpochRow(int Epoch, long Step, IReadOnlyDictionary<string, double> Metrics, string Phase = RunPhase.Train);

/// <summary>
/// One white-box measurement of one layer (docs/paper.md §4): <see cref="Measure"/> is e.g.
/// <c>Rc</c> (compression term), <c>R</c> (coding rate) or <c>nonzero</c> (fraction of non-zeros);
/// mean and standard deviation over the samples measured.
/// </summary>
public sealed record WhiteBoxRow(int Layer, string Measure, string Split, double Mean, double Std, int Samples);

/// <summary>Live progress of a run, for the console and ETA.</summary>
public sealed record ProgressInfo(
    long Step,
    long TotalSteps,
    int Epoch,
    double Loss,
    double LearningRate,
    double SamplesPerSecond,
    TimeSpan Elapsed,
    TimeSpan? Eta,
    string Phase = RunPhase.Train);

/// <summary>A file a run produced (plot, attention map, checkpoint export), relative to its run folder.</summary>
public sealed record Artifact(string Name, string RelativePath, string Description);

/// <summary>What a finished run returns: final metrics, white-box rows and artifacts.</summary>
public sealed record RunResult(
    IReadOnlyDictionary<string, double> Metrics,
    IReadOnlyList<WhiteBoxRow> WhiteBox,
    IReadOnlyList<Artifact> Artifacts);
