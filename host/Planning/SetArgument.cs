using Crate.Host.Plugins;

namespace Crate.Host.Planning;

/// <summary>
/// One <c>--set</c> argument, parsed in one place for every command: <c>key=value</c> applies to every selected
/// task that has the key, <c>task:key=value</c> to that task only.
/// </summary>
/// <param name="Task">The task named before the colon, or null.</param>
/// <param name="Key">The config key.</param>
/// <param name="Value">The value as typed (validated later by the task's schema).</param>
/// <param name="Raw">The argument as given, for messages.</param>
public sealed record SetArgument(string? Task, string Key, string Value, string Raw)
{
    /// <summary>Parses <paramref name="raw"/> or throws <see cref="UsageException"/> naming it.</summary>
    public static SetArgument Parse(string raw)
    {
        int eq = raw.IndexOf('=');
        if (eq <= 0) throw new UsageException($"--set {raw}: expected key=value (or task:key=value)");
        string lhs = raw[..eq].Trim(), value = raw[(eq + 1)..];
        int colon = lhs.IndexOf(':');
        return colon > 0 ? new SetArgument(lhs[..colon], lhs[(colon + 1)..].Trim(), value, raw) : new SetArgument(null, lhs, value, raw);
    }

    /// <summary>Whether this argument is meant for <paramref name="task"/> (no task named, or this one).</summary>
    public bool AppliesTo(string task) => Task is null || Task == task;

    /// <summary>The key and value, as a schema takes overrides.</summary>
    public KeyValuePair<string, string> Pair => KeyValuePair.Create(Key, Value);
}
