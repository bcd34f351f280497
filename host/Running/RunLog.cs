using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Crate.Host.Running;

/// <summary>
/// A run's logger: every message at <c>info</c> and above goes to <c>&lt;run folder&gt;/run.log</c> (timestamped, one
/// line each, exceptions in full); the terminal (the host's console logger) gets warnings and errors, or everything
/// from <c>info</c> up with <c>--verbose</c>. The progress view's one line per evaluation is the terminal's record
/// of a run, so the trainer's own evaluation log lines are not printed twice.
/// </summary>
public sealed class RunLog(string path, ILogger console, bool verbose) : ILogger, IDisposable
{
    private readonly object _gate = new();
    private readonly StreamWriter _file = OpenAppend(path);

    /// <summary>The log file.</summary>
    public string Path => path;

    private static StreamWriter OpenAppend(string path)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(path)!);
        return new StreamWriter(new FileStream(path, FileMode.Append, FileAccess.Write, FileShare.Read)) { AutoFlush = true };
    }

    /// <inheritdoc />
    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    /// <inheritdoc />
    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Information && logLevel != LogLevel.None;

    /// <inheritdoc />
    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (!IsEnabled(logLevel)) return;
        string message = formatter(state, exception);
        string line = $"{DateTime.Now.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)} {Level(logLevel)}: {message}";
        lock (_gate)
        {
            _file.WriteLine(line);
            if (exception is not null) _file.WriteLine(exception);
        }
        if (verbose || logLevel >= LogLevel.Warning) console.Log(logLevel, eventId, state, exception, formatter);
    }

    private static string Level(LogLevel level) => level switch
    {
        LogLevel.Information => "info",
        LogLevel.Warning => "warn",
        LogLevel.Error => "fail",
        LogLevel.Critical => "crit",
        _ => level.ToString().ToLowerInvariant(),
    };

    /// <summary>Closes the log file.</summary>
    public void Dispose()
    {
        lock (_gate) _file.Dispose();
    }
}
