namespace Crate.Core.Contract;

/// <summary>
/// One experiment family of the paper (vit, mae, dino, bert, gpt2, or a third party's): a CRATE model
/// and its baseline trained under one recipe. Implementations need a public parameterless constructor.
/// </summary>
public interface ICrateTask
{
    /// <summary>Short lower-case name used on the command line, e.g. <c>vit</c>.</summary>
    string Name { get; }

    /// <summary>One-line human title.</summary>
    string Title { get; }

    /// <summary>The models this task trains: at least one CRATE variant and its baseline.</summary>
    IReadOnlyList<ModelInfo> Models { get; }

    /// <summary>Every config key with its type, default and validation.</summary>
    ConfigSchema Schema { get; }

    /// <summary>Named presets: at least <c>smoke</c> (tests), <c>small</c> (CPU default) and <c>paper</c>.</summary>
    IReadOnlyList<Preset> Presets { get; }

    /// <summary>Datasets the task reads, each with its shipped default where there is one.</summary>
    IReadOnlyList<DatasetNeed> Datasets { get; }

    /// <summary>
    /// The names (from <see cref="Datasets"/>) that a run with <paramref name="config"/> reads; the host
    /// resolves them all before the plan starts, so a missing folder fails before any training.
    /// </summary>
    IReadOnlyList<string> RequiredDatasets(ResolvedConfig config);

    /// <summary>Metrics the task reports, in report order.</summary>
    IReadOnlyList<MetricInfo> Metrics { get; }

    /// <summary>The paper's reported values for this task's metrics.</summary>
    IReadOnlyList<PaperReference> PaperValues { get; }

    /// <summary>
    /// Named architectures (e.g. CRATE-T, ViT-S) with their parameter counts, for <c>list models</c>.
    /// Counting may build the module on the CPU.
    /// </summary>
    IReadOnlyList<NamedModelConfig> NamedConfigs { get; }

    /// <summary>
    /// Trains and evaluates one (model, config, seed) on the calling thread. Reports progress and
    /// per-epoch rows through <paramref name="context"/>, checkpoints into its checkpoint folder,
    /// resumes from <see cref="IRunContext.ResumeCheckpoint"/> when set, and throws
    /// <see cref="OperationCanceledException"/> when the context's token is cancelled (after saving a checkpoint).
    /// </summary>
    RunResult Run(IRunContext context);
}
