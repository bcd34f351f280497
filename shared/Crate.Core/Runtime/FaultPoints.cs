using System.Globalization;

namespace Crate.Core.Runtime;

/// <summary>
/// A fault-injection hook for the chaos test (tools/chaos), inert unless <c>CRATE_CHAOS_PAUSE</c> is set. With
/// <c>CRATE_CHAOS_PAUSE=name:n</c> (several separated by commas) a process that reaches point <c>name</c> for the
/// n-th time (counted per process) writes "<c>name pid</c>" to the file <c>CRATE_CHAOS_MARK</c> (when set), a line
/// on stderr, and sleeps until it is killed: the chaos test waits for the mark, then sends SIGKILL to the whole
/// process group, so the kill lands inside the window the point names:
/// <list type="bullet">
/// <item><c>checkpoint</c>: a checkpoint's files are written into its <c>.tmp-*</c> folder, not yet renamed into place;</item>
/// <item><c>checkpoint-rotate</c>: an old checkpoint has been renamed aside to be deleted (rotation), not yet deleted;</item>
/// <item><c>db-write</c>: a results-database write has been made, the database lock is still held;</item>
/// <item><c>merge</c>: inside one run's merge transaction, its old rows deleted and the new ones not yet written;</item>
/// <item><c>checkpoint-written</c>: a checkpoint has just been renamed into place and named the latest.</item>
/// </list>
/// With <c>CRATE_CHAOS_THROW=name:n</c> the n-th hit of point <c>name</c> throws instead an
/// <see cref="System.Runtime.InteropServices.ExternalException"/>, the type TorchSharp gives libtorch's errors: the
/// host's retry of a run that libtorch failed (README "Known issues") is tested with it.
/// </summary>
public static class FaultPoints
{
    /// <summary>The variable that arms the points.</summary>
    public const string PauseVariable = "CRATE_CHAOS_PAUSE";

    /// <summary>The file a paused process writes its point and pid to.</summary>
    public const string MarkVariable = "CRATE_CHAOS_MARK";

    /// <summary>The variable that arms points to throw a libtorch-like error.</summary>
    public const string ThrowVariable = "CRATE_CHAOS_THROW";

    private static readonly Dictionary<string, int>? Armed = Parse(Environment.GetEnvironmentVariable(PauseVariable));
    private static readonly Dictionary<string, int>? ArmedThrow = Parse(Environment.GetEnvironmentVariable(ThrowVariable));
    private static readonly Dictionary<string, int> Reached = [];

    /// <summary>Marks point <paramref name="name"/>; pauses this process for good, or throws, when it is armed for this hit.</summary>
    public static void Reach(string name)
    {
        bool pause = Armed is not null && Armed.ContainsKey(name), fail = ArmedThrow is not null && ArmedThrow.ContainsKey(name);
        if (!pause && !fail) return;
        int reached;
        lock (Reached) reached = Reached[name] = Reached.GetValueOrDefault(name) + 1;
        if (fail && ArmedThrow![name] == reached)
            throw new System.Runtime.InteropServices.ExternalException($"chaos: libtorch-like error injected at '{name}' (hit {reached})");
        if (!pause || Armed![name] != reached) return;
        int hit = reached;
        var line = $"{name} {Environment.ProcessId}";
        if (Environment.GetEnvironmentVariable(MarkVariable) is { Length: > 0 } mark)
            File.WriteAllText(mark, line + "\n");
        Console.Error.WriteLine($"chaos: paused at '{name}' (hit {hit}), pid {Environment.ProcessId}");
        Thread.Sleep(Timeout.Infinite);
    }

    private static Dictionary<string, int>? Parse(string? value)
    {
        if (string.IsNullOrWhiteSpace(value)) return null;
        var points = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var item in value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            var parts = item.Split(':', 2);
            points[parts[0]] = parts.Length == 2 && int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : 1;
        }
        return points;
    }
}
