using System.Text.Json;
using Crate.Core.Contract;

namespace Crate.Host.Running;

/// <summary>
/// The line protocol between <c>reproduce --jobs N</c> and its job processes. A job process (the same host with the
/// internal <c>--run-key</c>) runs one planned run and writes one line per event on its stdout: <see cref="Prefix"/>
/// and a JSON <see cref="JobLine"/> (a message, a step's progress, the outcome, a full disk). The parent asks it to
/// stop by writing <see cref="StopLine"/> to its stdin (or by closing it: a parent that died stops its jobs at their
/// next step boundary, with a checkpoint).
/// </summary>
public sealed class JobChannel(TextWriter output) : IRunProgress
{
    /// <summary>Start of every protocol line; other lines (a plugin writing to stdout) are shown as they are.</summary>
    public const string Prefix = "@crate-job ";

    /// <summary>What the parent writes to a job's stdin to stop it at the next step boundary.</summary>
    public const string StopLine = "stop";

    /// <summary>Progress is sent at most this often (and at a phase's last step).</summary>
    public static readonly TimeSpan ProgressInterval = TimeSpan.FromMilliseconds(200);

    private static readonly JsonSerializerOptions Json = new() { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };
    private readonly object _gate = new();
    private readonly System.Diagnostics.Stopwatch _clock = System.Diagnostics.Stopwatch.StartNew();
    private TimeSpan? _lastProgress;

    /// <summary>Nothing: the parent shows the run's start itself.</summary>
    public void StartRun(int index, string label) { }

    /// <summary>Nothing: the parent ends the run when the outcome arrives.</summary>
    public void EndRun(TimeSpan? duration) { }

    /// <inheritdoc />
    public void Message(string text) => Send(new JobLine { Message = text });

    /// <inheritdoc />
    public void Update(ProgressInfo info)
    {
        lock (_gate)
        {
            var now = _clock.Elapsed;
            if (info.Step != info.TotalSteps && _lastProgress is { } last && now - last < ProgressInterval) return;
            _lastProgress = now;
        }
        Send(new JobLine { Progress = info });
    }

    /// <summary>The run's outcome: the last line of a job.</summary>
    public void Outcome(RunOutcome outcome) => Send(new JobLine
    {
        Outcome = new JobResult(outcome.Kind, outcome.Error, outcome.Duration.TotalSeconds, outcome.Resumed, outcome.BadInput),
    });

    /// <summary>The output folder's disk filled up (<see cref="DiskFullException"/>): the parent stops the plan.</summary>
    public void DiskFull(DiskFullException e) => Send(new JobLine { DiskFull = e.InnerException?.Message ?? e.Message });

    private void Send(JobLine line)
    {
        var text = Prefix + JsonSerializer.Serialize(line, Json);
        lock (_gate)
        {
            output.WriteLine(text);
            output.Flush();
        }
    }

    /// <summary>Parses a line a job wrote: the event, or null for a line outside the protocol.</summary>
    public static JobLine? Parse(string line)
    {
        if (!line.StartsWith(Prefix, StringComparison.Ordinal)) return null;
        try { return JsonSerializer.Deserialize<JobLine>(line.AsSpan(Prefix.Length), Json); }
        catch (JsonException) { return null; }
    }
}

/// <summary>One event of a job process; exactly one member is set.</summary>
public sealed record JobLine
{
    /// <summary>A line for the terminal (an evaluation row, [run], [done], ...).</summary>
    public string? Message { get; init; }
    /// <summary>A step's progress.</summary>
    public ProgressInfo? Progress { get; init; }
    /// <summary>How the run ended.</summary>
    public JobResult? Outcome { get; init; }
    /// <summary>The cause of a full disk (the I/O error's message).</summary>
    public string? DiskFull { get; init; }
}

/// <summary>A job's <see cref="RunOutcome"/> without the planned run (the parent has it).</summary>
public sealed record JobResult(RunOutcomeKind Kind, string? Error, double Seconds, bool Resumed, string? BadInput = null);
