using Crate.Core.Contract;

namespace Crate.Results;

/// <summary>Where a run is in its life: planned runs start <see cref="Running"/>; only <see cref="Finished"/> runs are aggregated.</summary>
public enum RunStatus
{
    /// <summary>Started and not yet ended (or its process died without recording an end).</summary>
    Running,
    /// <summary>Trained and evaluated; its metrics are final.</summary>
    Finished,
    /// <summary>Ended with an error (<see cref="RunRecord.Error"/>).</summary>
    Failed,
    /// <summary>Stopped by the user (Ctrl-C) after saving a checkpoint; resumable.</summary>
    Interrupted,
}

/// <summary>
/// One document per run in the <c>runs</c> collection, keyed by the run key (<see cref="RunKeys"/>).
/// It carries everything <c>report</c> needs, so the report works from the database alone:
/// the metric descriptions and the paper's reference values are copied from the plugin.
/// </summary>
public sealed class RunRecord
{
    /// <summary>The run key (<see cref="RunKeys.Compute"/>); the document id.</summary>
    public string Id { get; set; } = "";
    /// <summary>Task name, e.g. <c>vit</c>.</summary>
    public string Task { get; set; } = "";
    /// <summary>Model name, e.g. <c>crate</c> or <c>vit</c>.</summary>
    public string Model { get; set; } = "";
    /// <summary>Preset the config was resolved from, e.g. <c>small</c>.</summary>
    public string Preset { get; set; } = "";
    /// <summary>Master seed.</summary>
    public int Seed { get; set; }
    /// <summary>Whether <see cref="Model"/> is the CRATE variant or the baseline.</summary>
    public ModelRole Role { get; set; }
    /// <summary>The data the run trained on, for the report's note (e.g. <c>Fashion-MNIST</c>); null when unknown.</summary>
    public string? Dataset { get; set; }
    /// <summary>Canonical JSON of the resolved config (<see cref="RunKeys.CanonicalJson"/>).</summary>
    public string ConfigJson { get; set; } = "{}";
    /// <summary>The code the run was made with.</summary>
    public CodeVersion Code { get; set; } = new();
    /// <summary>The machine and libraries the run was made on.</summary>
    public EnvironmentInfo Environment { get; set; } = new();
    /// <summary>Where the run is in its life.</summary>
    public RunStatus Status { get; set; }
    /// <summary>The error of a <see cref="RunStatus.Failed"/> run.</summary>
    public string? Error { get; set; }
    /// <summary>How many times the run was started (1 + resumes and retries).</summary>
    public int Attempts { get; set; }
    /// <summary>When the run was first planned and recorded (UTC).</summary>
    public DateTime CreatedUtc { get; set; }
    /// <summary>When the latest attempt started (UTC).</summary>
    public DateTime? StartedUtc { get; set; }
    /// <summary>When the run finished or failed (UTC).</summary>
    public DateTime? FinishedUtc { get; set; }
    /// <summary>Training wall time over all attempts, in seconds.</summary>
    public double TrainSeconds { get; set; }
    /// <summary>Final metrics by name.</summary>
    public Dictionary<string, double> Metrics { get; set; } = new();
    /// <summary>The task's metric descriptions, in report order (copied from the plugin).</summary>
    public List<MetricInfoRecord> MetricInfo { get; set; } = new();
    /// <summary>The paper's reference values of the task (copied from the plugin).</summary>
    public List<PaperValueRecord> PaperValues { get; set; } = new();
    /// <summary>The paper's relative claims for the task (copied from the plugin, <see cref="IPaperClaims"/>).</summary>
    public List<PaperClaimRecord> Claims { get; set; } = new();
    /// <summary>Files the run produced, relative to <see cref="RunDirectory"/>.</summary>
    public List<ArtifactRecord> Artifacts { get; set; } = new();
    /// <summary>The run's own folder (absolute, or relative to the output folder).</summary>
    public string RunDirectory { get; set; } = "";
}

/// <summary>The code a run was made with: <c>git rev-parse HEAD</c>, whether the tree was dirty (null when unknown) and <c>git describe</c>.</summary>
public sealed class CodeVersion
{
    /// <summary>Full commit hash, or empty when not in a git checkout.</summary>
    public string Commit { get; set; } = "";
    /// <summary>Whether the working tree had uncommitted changes; null when unknown.</summary>
    public bool? Dirty { get; set; }
    /// <summary><c>git describe --always --dirty</c>, or empty.</summary>
    public string Describe { get; set; } = "";

    /// <summary>Short form for tables: the first 10 characters of the commit, with <c>-dirty</c> when dirty; <c>unknown</c> without a commit.</summary>
    public string Short() =>
        Commit.Length == 0 ? "unknown" : Commit[..Math.Min(10, Commit.Length)] + (Dirty == true ? "-dirty" : "");
}

/// <summary>The machine and libraries a run was made on.</summary>
public sealed class EnvironmentInfo
{
    /// <summary>Operating system description.</summary>
    public string Os { get; set; } = "";
    /// <summary>.NET runtime version.</summary>
    public string DotNet { get; set; } = "";
    /// <summary>TorchSharp version.</summary>
    public string TorchSharp { get; set; } = "";
    /// <summary>libtorch version.</summary>
    public string LibTorch { get; set; } = "";
    /// <summary>Torch device, e.g. <c>cpu</c> or <c>cuda:0 (NVIDIA H100)</c>.</summary>
    public string Device { get; set; } = "";
    /// <summary>Torch intra-op threads.</summary>
    public int Threads { get; set; }
    /// <summary>Host name or machine description.</summary>
    public string Machine { get; set; } = "";
    /// <summary>Native allocator in use (e.g. glibc, jemalloc), if known.</summary>
    public string Allocator { get; set; } = "";
}

/// <summary>A copy of the plugin's <see cref="Core.Contract.MetricInfo"/> stored with the run.</summary>
public sealed class MetricInfoRecord
{
    /// <summary>Metric name.</summary>
    public string Name { get; set; } = "";
    /// <summary>What the metric measures.</summary>
    public string Description { get; set; } = "";
    /// <summary>Whether a larger value is better.</summary>
    public bool HigherIsBetter { get; set; }
    /// <summary>Unit, e.g. <c>%</c> (values are in percent) or <c>nats/token</c>.</summary>
    public string Unit { get; set; } = "";

    /// <summary>The treated metric this one is the control of (<see cref="MetricControl.Of"/>), or null.</summary>
    public string? ControlOf { get; set; }
    /// <summary>The kind of control (<see cref="ControlKind"/> by name), or null.</summary>
    public string? ControlKind { get; set; }

    /// <summary>Copies a plugin's metric description.</summary>
    public static MetricInfoRecord From(MetricInfo info) =>
        new()
        {
            Name = info.Name, Description = info.Description, HigherIsBetter = info.HigherIsBetter, Unit = info.Unit,
            ControlOf = info.Control?.Of, ControlKind = info.Control?.Kind.ToString(),
        };
}

/// <summary>A copy of the plugin's <see cref="PaperClaim"/> stored with the run.</summary>
public sealed class PaperClaimRecord
{
    /// <summary>Metric name.</summary>
    public string Metric { get; set; } = "";
    /// <summary>How far behind the baseline CRATE may be (in the metric's unit).</summary>
    public double Margin { get; set; }
    /// <summary>The claim in words.</summary>
    public string Statement { get; set; } = "";
    /// <summary>Where the paper makes it.</summary>
    public string Source { get; set; } = "";

    /// <summary>Copies a plugin's claim.</summary>
    public static PaperClaimRecord From(PaperClaim claim) =>
        new() { Metric = claim.Metric, Margin = claim.Margin, Statement = claim.Statement, Source = claim.Source };
}

/// <summary>A copy of the plugin's <see cref="PaperReference"/> stored with the run.</summary>
public sealed class PaperValueRecord
{
    /// <summary>The model the value is for (one of the task's model names).</summary>
    public string Model { get; set; } = "";
    /// <summary>Metric name.</summary>
    public string Metric { get; set; } = "";
    /// <summary>The published value, in the metric's unit.</summary>
    public double Value { get; set; }
    /// <summary>The configuration and data it was measured on, e.g. <c>CRATE-T, ImageNet-1K</c>.</summary>
    public string Config { get; set; } = "";
    /// <summary>Where in the paper, e.g. <c>Table 1</c>.</summary>
    public string Source { get; set; } = "";

    /// <summary>Copies a plugin's paper reference.</summary>
    public static PaperValueRecord From(PaperReference paper) =>
        new() { Model = paper.Model, Metric = paper.Metric, Value = paper.Value, Config = paper.Config, Source = paper.Source };
}

/// <summary>A copy of a run's <see cref="Artifact"/>: a file relative to the run folder.</summary>
public sealed class ArtifactRecord
{
    /// <summary>Short name, e.g. <c>attention-maps</c>.</summary>
    public string Name { get; set; } = "";
    /// <summary>Path relative to <see cref="RunRecord.RunDirectory"/>.</summary>
    public string RelativePath { get; set; } = "";
    /// <summary>What the file shows.</summary>
    public string Description { get; set; } = "";

    /// <summary>Copies a plugin's artifact.</summary>
    public static ArtifactRecord From(Artifact artifact) =>
        new() { Name = artifact.Name, RelativePath = artifact.RelativePath, Description = artifact.Description };
}
