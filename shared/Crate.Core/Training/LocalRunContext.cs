using Crate.Core.Contract;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Core.Training;

/// <summary>
/// An <see cref="IRunContext"/> for running the real <see cref="Trainer{TBatch}"/> outside the host (tools,
/// benchmarks, tests): progress, epoch rows and white-box rows are kept in memory, checkpoints go to a run
/// folder (a fresh temporary one, deleted on <see cref="Dispose"/>, unless one is given), logging goes to
/// <see cref="Logger"/> (silent unless set, e.g. to <see cref="ConsoleLogger"/>), and <see cref="Cancel"/>
/// stops the run at the next step boundary as Ctrl-C does in the host.
/// </summary>
public sealed class LocalRunContext : IRunContext, IDisposable
{
    private readonly CancellationTokenSource _cancel = new();
    private readonly object _gate = new();
    private readonly List<ProgressInfo> _progress = [];
    private readonly List<EpochRow> _epochs = [];
    private readonly List<WhiteBoxRow> _whiteBox = [];
    private readonly bool _temporary;

    /// <summary>
    /// A context over <paramref name="runDirectory"/> (created if missing; null: a fresh folder under the system
    /// temp folder, deleted on <see cref="Dispose"/>), master seed <paramref name="seed"/> and
    /// <paramref name="config"/> (null: the defaults of <see cref="TrainerKeys.All"/>).
    /// </summary>
    public LocalRunContext(string? runDirectory = null, int seed = 1, ResolvedConfig? config = null)
    {
        _temporary = runDirectory is null;
        RunDirectory = Path.GetFullPath(runDirectory ?? Path.Combine(Path.GetTempPath(), "crate-runs", Guid.NewGuid().ToString("N")));
        Directory.CreateDirectory(RunDirectory);
        Seed = seed;
        Config = config ?? new ConfigSchema(TrainerKeys.All).Resolve();
    }

    /// <inheritdoc />
    public string Task { get; init; } = "local";

    /// <inheritdoc />
    public string Model { get; init; } = "model";

    /// <inheritdoc />
    public string Preset { get; init; } = "custom";

    /// <inheritdoc />
    public int Seed { get; }

    /// <inheritdoc />
    public ResolvedConfig Config { get; }

    /// <inheritdoc />
    public string Device { get; init; } = "cpu";

    /// <inheritdoc />
    public string RunDirectory { get; }

    /// <inheritdoc />
    public string CheckpointDirectory => Path.Combine(RunDirectory, "checkpoints");

    /// <inheritdoc />
    public string? ResumeCheckpoint { get; set; }

    /// <inheritdoc />
    public CancellationToken Cancellation => _cancel.Token;

    /// <inheritdoc />
    public ILogger Logger { get; init; } = NullLogger.Instance;

    /// <inheritdoc />
    public string? CacheDirectory { get; init; }

    /// <summary>Datasets are looked up here by name; null: <c>&lt;run folder&gt;/data/&lt;name&gt;</c>.</summary>
    public Func<string, string>? DataDirectories { get; init; }

    /// <summary>Whether <see cref="ReportProgress"/> keeps every report in <see cref="Progress"/> (true); long tool runs may turn it off.</summary>
    public bool KeepProgress { get; init; } = true;

    /// <summary>Called on every progress report, after it is recorded (e.g. to cancel at step k).</summary>
    public Action<ProgressInfo, LocalRunContext>? OnProgress { get; set; }

    /// <summary>Every progress report so far (when <see cref="KeepProgress"/>).</summary>
    public IReadOnlyList<ProgressInfo> Progress => _progress;

    /// <summary>Every epoch row so far.</summary>
    public IReadOnlyList<EpochRow> Epochs => _epochs;

    /// <summary>Every white-box row so far.</summary>
    public IReadOnlyList<WhiteBoxRow> WhiteBox => _whiteBox;

    /// <summary>Requests cancellation: the trainer checkpoints at the next step boundary and throws <see cref="OperationCanceledException"/>.</summary>
    public void Cancel() => _cancel.Cancel();

    /// <inheritdoc />
    public string DataDirectory(string name) => DataDirectories?.Invoke(name) ?? Path.Combine(RunDirectory, "data", name);

    /// <inheritdoc />
    public void ReportProgress(ProgressInfo progress)
    {
        if (KeepProgress)
            lock (_gate) _progress.Add(progress);
        OnProgress?.Invoke(progress, this);
    }

    /// <inheritdoc />
    public void ReportEpoch(EpochRow row)
    {
        lock (_gate) _epochs.Add(row);
    }

    /// <inheritdoc />
    public void ReportWhiteBox(IReadOnlyList<WhiteBoxRow> rows)
    {
        lock (_gate) _whiteBox.AddRange(rows);
    }

    /// <summary>Releases the cancellation source and deletes the run folder if it is a temporary one.</summary>
    public void Dispose()
    {
        _cancel.Dispose();
        if (!_temporary) return;
        try { Directory.Delete(RunDirectory, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}

/// <summary>A minimal <see cref="ILogger"/> writing <c>level: message</c> lines (and exceptions) to a text writer, standard error by default.</summary>
public sealed class ConsoleLogger(TextWriter? writer = null, LogLevel minimum = LogLevel.Information) : ILogger
{
    private readonly TextWriter _writer = writer ?? Console.Error;

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel != LogLevel.None && logLevel >= minimum;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string line = $"{logLevel.ToString().ToLowerInvariant()}: {formatter(state, exception)}";
        lock (_writer) _writer.WriteLine(exception is null ? line : line + Environment.NewLine + exception);
    }
}
