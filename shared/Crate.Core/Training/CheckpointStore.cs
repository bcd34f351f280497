using System.Globalization;
using Crate.Core.Runtime;

namespace Crate.Core.Training;

/// <summary>
/// The checkpoint folder of a run (<c>IRunContext.CheckpointDirectory</c>):
/// <code>
/// step-0000001200/          one complete checkpoint (after 1,200 optimizer steps)
///   module-0.bin …          every module's state_dict (<see cref="ModuleState"/>), trainable modules first
///   optimizer.bin           the optimizer state (<see cref="ITrainOptimizer.Save"/>)
///   state.json              step, data position, recipe, best metric, epoch rows (written last)
/// latest                    text: the name of the newest complete checkpoint
/// best/                     module-*.bin and best.json of the best evaluation so far
/// </code>
/// A checkpoint is written into a hidden <c>.tmp-…</c> folder, flushed to disk and renamed into place, and
/// only then does <c>latest</c> move (itself replaced by rename). A crash at any point leaves the previous
/// checkpoint intact. The <see cref="Keep"/> newest checkpoints are kept; an older one is first renamed aside
/// (<c>.old-…</c>) and then deleted, so a <c>step-*</c> folder is always whole. One attempt writes a run's checkpoint
/// folder (the host's run lease); <see cref="CheckpointFence"/> stops an attempt that lost its lease from writing.
/// </summary>
public sealed class CheckpointStore
{
    internal const string StateFile = "state.json";
    internal const string OptimizerFile = "optimizer.bin";
    private const string LatestFile = "latest";
    private const string Prefix = "step-";

    /// <summary>
    /// A store in <paramref name="directory"/> (created if missing) keeping <paramref name="keep"/> checkpoints.
    /// Folders left by a killed process (<c>.tmp-*</c> half written, <c>.old-*</c> moved aside to be deleted) are
    /// removed: one attempt writes a run's checkpoint folder (the host holds its run lease).
    /// </summary>
    public CheckpointStore(string directory, int keep)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(keep, 1);
        Directory = directory; Keep = keep;
        System.IO.Directory.CreateDirectory(directory);
        foreach (var stale in System.IO.Directory.EnumerateDirectories(directory, ".tmp-*")
                     .Concat(System.IO.Directory.EnumerateDirectories(directory, ".old-*")).ToList())
            DeleteFolder(stale);
    }

    /// <summary>The checkpoint folder.</summary>
    public string Directory { get; }

    /// <summary>How many of the newest checkpoints are kept.</summary>
    public int Keep { get; }

    /// <summary>The folder of the best model (<c>best/</c>).</summary>
    public string BestPath => Path.Combine(Directory, "best");

    /// <summary>The file name of module <paramref name="index"/> inside a checkpoint.</summary>
    public static string ModuleFile(int index) => $"module-{index}.bin";

    /// <summary>
    /// The newest complete checkpoint in <paramref name="directory"/>, or null when there is none: what the
    /// host passes as <c>ResumeCheckpoint</c> to continue an interrupted run.
    /// </summary>
    public static string? FindLatest(string directory)
    {
        if (!System.IO.Directory.Exists(directory)) return null;
        var pointer = Path.Combine(directory, LatestFile);
        try
        {
            var named = Path.Combine(directory, File.ReadAllText(pointer).Trim());
            if (IsComplete(named)) return named;
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException) { }
        try { return Complete(directory).Select(c => c.Path).LastOrDefault(); }
        catch (DirectoryNotFoundException) { return null; }   // the folder itself was removed meanwhile
    }

    /// <summary>
    /// The one rule by which a command on a run's checkpoints (<c>evaluate</c>, <c>sample</c>) picks weights:
    /// <paramref name="folder"/>'s own <c>module-&lt;index&gt;.bin</c> when it is one checkpoint (a <c>step-*</c>
    /// folder, or <c>best/</c> when named), else the newest complete checkpoint in it, i.e. the weights the run
    /// ended with, on which its final metrics were measured. Null when there is neither.
    /// </summary>
    public static string? ModuleFileOf(string folder, int index = 0)
    {
        string here = Path.Combine(folder, ModuleFile(index));
        if (File.Exists(here)) return here;
        return FindLatest(folder) is { } latest && File.Exists(Path.Combine(latest, ModuleFile(index)))
            ? Path.Combine(latest, ModuleFile(index))
            : null;
    }

    /// <summary>
    /// Resolves <paramref name="path"/> (a checkpoint folder, or a checkpoint directory whose newest checkpoint
    /// is meant) to a complete checkpoint folder; throws a <see cref="TrainerConfigException"/> when there is none.
    /// </summary>
    public static string Resolve(string path)
    {
        if (IsComplete(path)) return path;
        // A step-* folder that is gone (rotated away after it was chosen): the newest complete checkpoint beside it.
        if (!System.IO.Directory.Exists(path) && Path.GetFileName(Path.TrimEndingDirectorySeparator(path)).StartsWith(Prefix, StringComparison.Ordinal)
            && Path.GetDirectoryName(Path.TrimEndingDirectorySeparator(path)) is { } parent && FindLatest(parent) is { } newest)
            return newest;
        return FindLatest(path) ?? throw new TrainerConfigException(
            $"resume checkpoint '{path}' is neither a checkpoint folder (with {StateFile}) nor a folder holding one");
    }

    /// <summary>
    /// Writes the checkpoint of <paramref name="step"/>: <paramref name="writeFiles"/> fills a temporary folder,
    /// which is then renamed into place; returns the final folder.
    /// </summary>
    internal string Write(long step, Action<string> writeFiles)
    {
        string name = Prefix + step.ToString("D10", CultureInfo.InvariantCulture);
        string final = Path.Combine(Directory, name);
        string temp = WriteTemp(writeFiles);
        FaultPoints.Reach("checkpoint");
        Fenced(temp);
        if (System.IO.Directory.Exists(final))
        {
            string old = Path.Combine(Directory, $".old-{name}-{Guid.NewGuid():N}");
            System.IO.Directory.Move(final, old);
            System.IO.Directory.Move(temp, final);
            System.IO.Directory.Delete(old, recursive: true);
        }
        else System.IO.Directory.Move(temp, final);
        ReplaceFile(Path.Combine(Directory, LatestFile), name);
        Prune(final);
        FaultPoints.Reach("checkpoint-written");
        return final;
    }

    /// <summary>Replaces <c>best/</c> with a folder filled by <paramref name="writeFiles"/>.</summary>
    internal string WriteBest(Action<string> writeFiles)
    {
        string temp = WriteTemp(writeFiles);
        Fenced(temp);
        string old = Path.Combine(Directory, $".old-best-{Guid.NewGuid():N}");
        if (System.IO.Directory.Exists(BestPath)) System.IO.Directory.Move(BestPath, old);
        System.IO.Directory.Move(temp, BestPath);
        if (System.IO.Directory.Exists(old)) System.IO.Directory.Delete(old, recursive: true);
        return BestPath;
    }

    /// <summary>Asks <see cref="CheckpointFence"/> whether this attempt may still write here; if not, removes <paramref name="temp"/> and throws.</summary>
    private void Fenced(string temp)
    {
        try { CheckpointFence.Check(Directory); }
        catch (CheckpointFenceException)
        {
            DeleteFolder(temp);
            throw;
        }
    }

    private string WriteTemp(Action<string> writeFiles)
    {
        string temp = Path.Combine(Directory, $".tmp-{Guid.NewGuid():N}");
        System.IO.Directory.CreateDirectory(temp);
        try { writeFiles(temp); }
        catch
        {
            System.IO.Directory.Delete(temp, recursive: true);
            throw;
        }
        return temp;
    }

    /// <summary>Writes <paramref name="text"/> to a file flushed to disk, then renames it over <paramref name="path"/>.</summary>
    internal static void ReplaceFile(string path, string text)
    {
        string temp = path + ".tmp";
        using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write))
        {
            var bytes = System.Text.Encoding.UTF8.GetBytes(text);
            stream.Write(bytes);
            stream.Flush(flushToDisk: true);
        }
        File.Move(temp, path, overwrite: true);
    }

    private void Prune(string justWritten)
    {
        var complete = Complete(Directory).ToList();
        foreach (var (path, _) in complete.Take(Math.Max(0, complete.Count - Keep)))
            if (!string.Equals(path, justWritten, StringComparison.Ordinal))
            {
                // Aside first, then delete: a process killed while deleting leaves an .old-* folder, never a partial step-*.
                string old = Path.Combine(Directory, $".old-{Path.GetFileName(path)}-{Guid.NewGuid():N}");
                System.IO.Directory.Move(path, old);
                FaultPoints.Reach("checkpoint-rotate");
                DeleteFolder(old);
            }
        foreach (var stale in System.IO.Directory.EnumerateDirectories(Directory, ".tmp-*")
                     .Concat(System.IO.Directory.EnumerateDirectories(Directory, ".old-*")).ToList())
            DeleteFolder(stale);
    }

    private static void DeleteFolder(string path)
    {
        try { System.IO.Directory.Delete(path, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }

    private static bool IsComplete(string folder) => File.Exists(Path.Combine(folder, StateFile));

    /// <summary>Complete checkpoints, oldest first.</summary>
    private static IEnumerable<(string Path, long Step)> Complete(string directory) =>
        System.IO.Directory.EnumerateDirectories(directory, Prefix + "*")
            .Select(p => (Path: p, Ok: long.TryParse(System.IO.Path.GetFileName(p)[Prefix.Length..], NumberStyles.None,
                CultureInfo.InvariantCulture, out long s), Step: s))
            .Where(c => c.Ok && IsComplete(c.Path))
            .OrderBy(c => c.Step)
            .Select(c => (c.Path, c.Step));
}
