using System.Diagnostics;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// Real processes on one database: a writer killed with SIGKILL in the middle of its writes, and two
/// writers at once. The children are this test assembly run through <see cref="Program.Main"/>.
/// </summary>
public class CrashAndConcurrencyTests
{
    [Fact]
    public void A_writer_killed_mid_write_leaves_a_database_that_opens_with_every_row_it_reported()
    {
        using var folder = new TempFolder();
        for (var round = 0; round < 2; round++)
        {
            using var child = StartWriter(folder.Path, "killed", first: round * 10_000, count: 10_000);
            var reported = new List<int>();
            while (reported.Count < 25 + round * 10 && child.StandardOutput.ReadLine() is { } line)
                reported.Add(int.Parse(line["wrote ".Length..]));
            child.Kill(entireProcessTree: true); // SIGKILL on Linux: no finally blocks, no flush.
            child.WaitForExit();

            using var store = ResultsStore.Open(folder.Path);
            var stored = store.Epochs("killed").Select(e => e.Epoch).ToHashSet();
            Assert.Subset(stored, reported.ToHashSet());
            Assert.All(store.Epochs("killed"), e => Assert.Equal(Epoch(e.Epoch).Metrics, e.Metrics));
            store.AddEpoch("after-crash", Epoch(round));
        }
        using var reopened = ResultsStore.Open(folder.Path);
        Assert.Equal(2, reopened.Epochs("after-crash").Count);
    }

    [Fact]
    public void Two_writer_processes_and_this_one_at_once_lose_no_row()
    {
        using var folder = new TempFolder();
        using (ResultsStore.Open(folder.Path)) { }
        using var a = StartWriter(folder.Path, "proc-a", first: 0, count: 30);
        using var b = StartWriter(folder.Path, "proc-b", first: 0, count: 30);
        using (var store = ResultsStore.Open(folder.Path))
            for (var epoch = 0; epoch < 30; epoch++)
                store.AddEpoch("parent", Epoch(epoch));
        foreach (var child in new[] { a, b })
        {
            var output = child.StandardOutput.ReadToEnd();
            child.WaitForExit();
            Assert.True(child.ExitCode == 0, $"writer exited with {child.ExitCode}: {output}{child.StandardError.ReadToEnd()}");
        }

        using var reader = ResultsStore.Open(folder.Path);
        foreach (var key in new[] { "proc-a", "proc-b", "parent" })
            Assert.Equal(Enumerable.Range(0, 30), reader.Epochs(key).Select(e => e.Epoch));
    }

    private static Process StartWriter(string outDirectory, string runKey, int first, int count) =>
        StartChild("write-epochs", outDirectory, runKey, first.ToString(), count.ToString());

    /// <summary>This test assembly as a child process (<see cref="Program.Main"/>) with <paramref name="args"/>.</summary>
    internal static Process StartChild(params string[] args)
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        if (string.IsNullOrEmpty(host) || !File.Exists(host))
            host = Environment.ProcessPath is { } self && Path.GetFileNameWithoutExtension(self) == "dotnet" ? self : "dotnet";
        var start = new ProcessStartInfo(host)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in new[] { typeof(Program).Assembly.Location }.Concat(args))
            start.ArgumentList.Add(arg);
        return Process.Start(start) ?? throw new InvalidOperationException("could not start the writer process");
    }
}
