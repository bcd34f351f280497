using System.Text.Json;
using System.Text.Json.Serialization;
using Crate.Core.Contract;

namespace Crate.Core.Training;

/// <summary>
/// The trainer's own state in a checkpoint (<c>state.json</c>): everything besides tensors that an exact
/// resume needs. RNG state is a function of (seeds, step, micro-batch), so the seeds stand for it.
/// </summary>
internal sealed record TrainerState
{
    public const string FormatName = "crate-trainer-checkpoint";
    public const int FormatVersion = 1;

    public string Format { get; init; } = FormatName;
    public int Version { get; init; } = FormatVersion;
    /// <summary>Optimizer steps completed.</summary>
    public long Step { get; init; }
    public long TotalSteps { get; init; }
    /// <summary>Data position of the next micro-batch.</summary>
    public int Epoch { get; init; }
    public long Index { get; init; }
    public string Optimizer { get; init; } = "";
    public int BatchSize { get; init; }
    public int MicroBatchSize { get; init; }
    public long BatchesPerEpoch { get; init; }
    public long Seed { get; init; }
    public int ModuleCount { get; init; }
    public double ElapsedSeconds { get; init; }
    /// <summary>An evaluation was interrupted by cancellation; run it first on resume.</summary>
    public bool EvalPending { get; init; }
    public string? BestMetric { get; init; }
    public double? BestValue { get; init; }
    public long? BestStep { get; init; }
    /// <summary>Sums of the epoch row being accumulated (train loss, gradient norm, steps).</summary>
    public double IntervalLossSum { get; init; }
    public double IntervalGradNormSum { get; init; }
    public long IntervalSteps { get; init; }
    /// <summary>Auxiliary metrics of the interval: name → (sum of per-step means, steps).</summary>
    public Dictionary<string, AuxDto>? IntervalAux { get; init; }
    /// <summary>The optimizer groups (decay and scales) the state was saved with; null in older checkpoints.</summary>
    public string? GroupLayout { get; init; }
    public double LastLearningRate { get; init; }
    public int LastEpoch { get; init; } = 1;
    public List<RowDto> Rows { get; init; } = [];
    /// <summary>Mean loss of the last completed step (null before the first).</summary>
    public double? LastLoss { get; init; }
    /// <summary>Multiplier of the scheduled learning rate: halved at each rollback after a non-finite loss.</summary>
    public double LearningRateScale { get; init; } = 1;
    /// <summary>The rollbacks so far; null in checkpoints written before rollbacks existed.</summary>
    public List<NanRetry>? NanRetries { get; init; }

    internal sealed record RowDto(int Epoch, long Step, Dictionary<string, double> Metrics, string? Phase = null)
    {
        public static RowDto From(EpochRow row) => new(row.Epoch, row.Step, new Dictionary<string, double>(row.Metrics, StringComparer.Ordinal), row.Phase);
        /// <summary>The row; checkpoints written before phases existed hold rows of <paramref name="phase"/>.</summary>
        public EpochRow ToRow(string phase) => new(Epoch, Step, Metrics, Phase ?? phase);
    }

    internal sealed record AuxDto(double Sum, long Count);

    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
    };

    public string ToJson() => JsonSerializer.Serialize(this, Json);

    public static TrainerState FromJson(string json, string path)
    {
        var state = JsonSerializer.Deserialize<TrainerState>(json, Json)
                    ?? throw new InvalidDataException($"{path}: empty trainer state");
        if (state.Format != FormatName || state.Version != FormatVersion)
            throw new InvalidDataException($"{path}: format '{state.Format}' v{state.Version}, expected '{FormatName}' v{FormatVersion}");
        return state;
    }
}
