using Crate.Core.Contract;
using Crate.Core.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Tests.Training;

/// <summary>
/// An <see cref="IRunContext"/> for tests: records progress, epoch rows and white-box rows in memory,
/// uses a temporary run folder, and lets a test cancel the run from a progress callback.
/// </summary>
public sealed class InMemoryRunContext : IRunContext, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly object _gate = new();

    /// <summary>A context over a run folder (a fresh temporary one when null).</summary>
    public InMemoryRunContext(string? runDirectory = null, int seed = 1, ResolvedConfig? config = null)
    {
        RunDirectory = runDirectory ?? Path.Combine(Path.GetTempPath(), "crate-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(RunDirectory);
        Seed = seed;
        Config = config ?? new ConfigSchema(TrainerKeys.All).Resolve();
    }

    public string Task { get; init; } = "test";
    public string Model { get; init; } = "tiny";
    public string Preset { get; init; } = "smoke";
    public int Seed { get; }
    public ResolvedConfig Config { get; }
    public string Device { get; init; } = "cpu";
    public string RunDirectory { get; }
    public string CheckpointDirectory => Path.Combine(RunDirectory, "checkpoints");
    public string? ResumeCheckpoint { get; set; }
    public CancellationToken Cancellation => _cancel.Token;
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <summary>Called on every progress report (e.g. to cancel at step k).</summary>
    public Action<ProgressInfo, InMemoryRunContext>? OnProgress { get; set; }

    public List<ProgressInfo> Progress { get; } = [];
    public List<EpochRow> Epochs { get; } = [];
    public List<WhiteBoxRow> WhiteBox { get; } = [];

    /// <summary>Requests cancellation, as Ctrl-C does in the host.</summary>
    public void Cancel() => _cancel.Cancel();

    public string DataDirectory(string name) => Path.Combine(RunDirectory, "data", name);

    public void ReportProgress(ProgressInfo progress)
    {
        lock (_gate) Progress.Add(progress);
        OnProgress?.Invoke(progress, this);
    }

    public void ReportEpoch(EpochRow row)
    {
        lock (_gate) Epochs.Add(row);
    }

    public void ReportWhiteBox(IReadOnlyList<WhiteBoxRow> rows)
    {
        lock (_gate) WhiteBox.AddRange(rows);
    }

    /// <summary>Deletes the run folder.</summary>
    public void Dispose()
    {
        _cancel.Dispose();
        try { Directory.Delete(RunDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
