using Crate.Core.Runtime;
using Crate.Results;

namespace Crate.Chaos;

/// <summary>What a comparison found.</summary>
public sealed class Tally
{
    public int RunsLost, RowsLost, RowsDuplicated, ValuesDiffering, TemporaryFiles;

    public bool Clean => RunsLost == 0 && RowsLost == 0 && RowsDuplicated == 0 && ValuesDiffering == 0 && TemporaryFiles == 0;

    public void Add(Tally t)
    {
        RunsLost += t.RunsLost; RowsLost += t.RowsLost; RowsDuplicated += t.RowsDuplicated;
        ValuesDiffering += t.ValuesDiffering; TemporaryFiles += t.TemporaryFiles;
    }
}

/// <summary>A results folder against the uninterrupted reference: runs, metrics, evaluation rows, white-box rows, leftovers.</summary>
public static class Compare
{
    /// <summary>
    /// Every finished run of <paramref name="reference"/> must be finished in <paramref name="candidate"/> with bit-identical
    /// metrics (timing metrics aside: names with "seconds" or "samples_per_s"), the same evaluation rows (by phase and step)
    /// and white-box rows (by split, measure and layer), each once, with identical values; no run may be there twice or extra.
    /// </summary>
    public static Tally Databases(string reference, string candidate, string label)
    {
        var t = new Tally();
        void Say(string what) => Console.WriteLine($"chaos: {label}: {what}");
        using var want = ResultsStore.Open(reference);
        using var got = ResultsStore.Open(candidate);
        var runs = got.Runs();
        foreach (var g in runs.GroupBy(r => r.Id).Where(g => g.Count() > 1)) { t.RowsDuplicated += g.Count() - 1; Say($"run {g.Key} recorded {g.Count()} times"); }
        var expected = want.Runs();
        foreach (var extra in runs.Where(r => expected.All(e => e.Id != r.Id))) { t.RowsDuplicated++; Say($"run {extra.Id} is not in the reference"); }
        foreach (var run in expected)
        {
            var mine = runs.FirstOrDefault(r => r.Id == run.Id);
            if (mine is not { Status: RunStatus.Finished })
            {
                t.RunsLost++;
                Say($"run {run.Id} ({run.Task}/{run.Model}) is {(mine is null ? "missing" : mine.Status.ToString().ToLowerInvariant())}");
                continue;
            }
            t.ValuesDiffering += Differences(Untimed(run.Metrics), Untimed(mine.Metrics), $"run {run.Id} metrics", Say);
            var rows = got.Epochs(run.Id).GroupBy(e => (e.Phase, e.Step)).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var row in want.Epochs(run.Id))
            {
                if (!rows.Remove((row.Phase, row.Step), out var copies)) { t.RowsLost++; Say($"run {run.Id}: row {row.Phase} step {row.Step} lost"); continue; }
                if (copies.Count > 1) { t.RowsDuplicated += copies.Count - 1; Say($"run {run.Id}: row {row.Phase} step {row.Step} recorded {copies.Count} times"); }
                t.ValuesDiffering += Differences(Untimed(row.Metrics), Untimed(copies[0].Metrics), $"run {run.Id} row {row.Phase} step {row.Step}", Say);
            }
            foreach (var extra in rows) { t.RowsDuplicated += extra.Value.Count; Say($"run {run.Id}: row {extra.Key.Phase} step {extra.Key.Step} is not in the reference"); }
            var white = got.WhiteBox(run.Id).GroupBy(w => (w.Split, w.Measure, w.Layer)).ToDictionary(g => g.Key, g => g.ToList());
            foreach (var w in want.WhiteBox(run.Id))
            {
                if (!white.Remove((w.Split, w.Measure, w.Layer), out var copies)) { t.RowsLost++; Say($"run {run.Id}: white-box {w.Measure} layer {w.Layer} lost"); continue; }
                if (copies.Count > 1) t.RowsDuplicated += copies.Count - 1;
                if (copies[0] != w) { t.ValuesDiffering++; Say($"run {run.Id}: white-box {w.Measure} layer {w.Layer}: {copies[0]} vs {w}"); }
            }
            t.RowsDuplicated += white.Sum(x => x.Value.Count);
        }
        return t;
    }

    /// <summary>
    /// Files and folders left under temporary names (<c>.tmp-*</c>, <c>.old-*</c>, <c>*.tmp</c>), checkpoint folders
    /// without their <c>state.json</c>, and leases (run leases, the database lock) still held by a live process: each is named.
    /// </summary>
    public static int Leftovers(string folder)
    {
        int found = 0;
        void Say(string what) { found++; Console.WriteLine($"chaos: {folder}: {what}"); }
        foreach (var path in Directory.EnumerateFileSystemEntries(folder, "*", SearchOption.AllDirectories))
        {
            var name = Path.GetFileName(path);
            if (name.StartsWith(".tmp-", StringComparison.Ordinal) || name.StartsWith(".old-", StringComparison.Ordinal) || name.EndsWith(".tmp", StringComparison.Ordinal))
                Say($"left under a temporary name: {Path.GetRelativePath(folder, path)}");
            else if (name.StartsWith("step-", StringComparison.Ordinal) && Directory.Exists(path) && !File.Exists(Path.Combine(path, "state.json")))
                Say($"partial checkpoint: {Path.GetRelativePath(folder, path)}");
        }
        var leases = Path.Combine(folder, "leases");
        var lockFolders = Directory.Exists(leases) ? Directory.GetDirectories(leases).ToList() : [];
        lockFolders.Add(Path.Combine(folder, ResultsStore.FileName + ".lock"));
        foreach (var lease in lockFolders)
            // A lease a killed process left is stale (its process is gone) and taken over by the next attempt that needs it;
            // one still alive after every process ended would block the next attempt: a leak.
            if (FileLease.Peek(lease, TimeSpan.FromDays(1)) is { Status: LeaseStatus.Alive } view)
                Say($"lease still held: {Path.GetRelativePath(folder, lease)} ({view.Describe()})");
        return found;
    }

    private static Dictionary<string, double> Untimed(IReadOnlyDictionary<string, double> metrics) =>
        metrics.Where(kv => !kv.Key.Contains("seconds", StringComparison.Ordinal) && !kv.Key.Contains("samples_per_s", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key, kv => kv.Value);

    private static int Differences(Dictionary<string, double> want, Dictionary<string, double> got, string what, Action<string> say)
    {
        int n = 0;
        foreach (var key in want.Keys.Union(got.Keys))
        {
            bool same = want.TryGetValue(key, out var a) && got.TryGetValue(key, out var b) && a.Equals(b);
            if (same) continue;
            n++;
            say($"{what}: {key} = {(got.TryGetValue(key, out var x) ? x.ToString("R") : "missing")}, uninterrupted {(want.TryGetValue(key, out var y) ? y.ToString("R") : "missing")}");
        }
        return n;
    }
}
