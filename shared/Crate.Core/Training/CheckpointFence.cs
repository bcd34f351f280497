namespace Crate.Core.Training;

/// <summary>
/// The host's guard on a run's checkpoints. While an attempt trains a run it registers a guard for the run's checkpoint
/// folder (<see cref="Guard"/>): a check that answers null while the attempt still holds its run lease, else why not.
/// Before a checkpoint is renamed into place (and so before older ones are rotated away) <see cref="CheckpointStore"/>
/// asks the guard of any registered folder that contains its own; a refusal removes the temporary folder and throws
/// <see cref="CheckpointFenceException"/>, so an attempt that lost its lease (stalled past the stale timeout, and another
/// attempt took the run over) never changes the checkpoints the new owner resumes from. Without a guard (tests, tools)
/// every write goes ahead.
/// </summary>
public static class CheckpointFence
{
    private static readonly List<(string Root, Func<string?> Check)> Guards = [];

    /// <summary>Registers <paramref name="check"/> for <paramref name="root"/> and every folder inside it, until disposed.</summary>
    public static IDisposable Guard(string root, Func<string?> check)
    {
        var entry = (Path.TrimEndingDirectorySeparator(Path.GetFullPath(root)), check);
        lock (Guards) Guards.Add(entry);
        return new Registration(() => { lock (Guards) Guards.Remove(entry); });
    }

    /// <summary>Throws <see cref="CheckpointFenceException"/> when a guard of a folder holding <paramref name="directory"/> refuses.</summary>
    internal static void Check(string directory)
    {
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        List<Func<string?>> checks;
        lock (Guards)
            checks = Guards.Where(g => full == g.Root || full.StartsWith(g.Root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
                .Select(g => g.Check).ToList();
        foreach (var check in checks)
            if (check() is { } refusal)
                throw new CheckpointFenceException($"checkpoint not written to {directory}: {refusal}");
    }

    private sealed class Registration(Action remove) : IDisposable
    {
        private Action? _remove = remove;
        public void Dispose() => Interlocked.Exchange(ref _remove, null)?.Invoke();
    }
}

/// <summary>A checkpoint write refused by <see cref="CheckpointFence"/>: this attempt no longer owns the run.</summary>
public sealed class CheckpointFenceException(string message) : Exception(message);
