using System.Diagnostics;
using Crate.Core.Training;
using Crate.Results;
using Xunit.Abstractions;

namespace Crate.Tests.Host;

/// <summary>
/// A plan whose output folder fills up: a small tmpfs mounted for the test (root only; elsewhere the test says so in
/// its output and checks nothing else), nearly filled by a ballast file. The host must stop with one error line
/// naming the folder, leave the database readable and the last good checkpoint complete, and resume once the
/// ballast is deleted.
/// </summary>
[Collection("host processes")]
public class DiskFullTests(ITestOutputHelper output)
{
    [Fact]
    public void AFullOutputDiskStopsWithOneLineKeepsDatabaseAndCheckpointAndResumesAfterSpaceIsFreed()
    {
        var mount = HostProcess.TempDir("tmpfs");
        if (!Mount(mount, "2m", out var why))
        {
            output.WriteLine($"not run: cannot mount a tmpfs at {mount} ({why}); this test needs root (CI runs as root)");
            return;
        }
        try
        {
            var outDir = Path.Combine(mount, "out");
            string[] args = ["reproduce", "sample", "--preset", "smoke", "--models", "crate", "--seeds", "0,1,2", "--threads", "1",
                "--set", "finetune.epochs=100", "--set", "finetune.checkpoint_every=20", "--out", outDir, "--plugins", HostProcess.SampleDir];
            // Leave room for the database and the first run or so: each run adds about 100 KB of rows and checkpoints.
            var ballast = Path.Combine(mount, "ballast");
            Fill(ballast, mount, leaveBytes: 360 * 1024);

            var full = HostProcess.Run(args, TimeSpan.FromMinutes(3));
            Assert.True(full.ExitCode == 1, full.ToString());
            var line = Assert.Single(full.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
            Assert.StartsWith($"error: no space left on the device of {outDir} (", line);
            Assert.Contains("rerun the same command", line);

            // The database is intact: a copy on another disk opens and reads every run and row.
            var copy = HostProcess.TempDir("full-db");
            foreach (var f in Directory.GetFiles(outDir, "results*.db")) File.Copy(f, Path.Combine(copy, Path.GetFileName(f)));
            string? interrupted;
            using (var store = ResultsStore.Open(copy))
            {
                var runs = store.Runs();
                Assert.NotEmpty(runs);
                Assert.All(runs, r => store.Epochs(r.Id));
                interrupted = runs.FirstOrDefault(r => r.Status != RunStatus.Finished)?.RunDirectory;
            }
            // The run in flight (when its record made it) keeps a complete last checkpoint in each phase it reached.
            var runDirs = Directory.GetDirectories(Path.Combine(outDir, "sample", "crate"));
            var unfinished = interrupted ?? runDirs.OrderBy(Directory.GetCreationTimeUtc).Last();
            var phases = Directory.Exists(Path.Combine(unfinished, "checkpoints"))
                ? Directory.GetDirectories(Path.Combine(unfinished, "checkpoints")) : [];
            foreach (var phase in phases.Where(p => CheckpointStore.FindLatest(p) is not null))
                Assert.True(File.Exists(Path.Combine(CheckpointStore.FindLatest(phase)!, "state.json")));

            File.Delete(ballast);
            var resumed = HostProcess.Run(args, TimeSpan.FromMinutes(5));
            Assert.True(resumed.ExitCode == 0, resumed.ToString());
            Assert.Contains("[resume]", resumed.Stdout);                      // from the checkpoint kept when the disk filled
            using var after = ResultsStore.Open(outDir);
            Assert.Equal(3, after.Runs().Count(r => r.Status == RunStatus.Finished));
            output.WriteLine(line);
            output.WriteLine($"first attempt: {full.Stdout.Split('\n').Count(l => l.StartsWith("[done]"))} run(s) done before the disk filled; " +
                             $"rerun: {resumed.Stdout.Split('\n').Count(l => l.StartsWith("[resume]"))} resumed");
        }
        finally
        {
            Run("umount", mount);
        }
    }

    private static bool Mount(string at, string size, out string why)
    {
        var (code, text) = Run("mount", "-t", "tmpfs", "-o", $"size={size}", "tmpfs", at);
        why = text.Trim();
        return code == 0;
    }

    /// <summary>Writes <paramref name="path"/> until the filesystem of <paramref name="mount"/> has <paramref name="leaveBytes"/> free.</summary>
    private static void Fill(string path, string mount, long leaveBytes)
    {
        long free = new DriveInfo(mount).AvailableFreeSpace;
        using var f = File.Create(path);
        f.Write(new byte[Math.Max(0, free - leaveBytes)]);
    }

    private static (int Code, string Output) Run(string file, params string[] args)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (var a in args) psi.ArgumentList.Add(a);
        try
        {
            using var p = Process.Start(psi)!;
            var text = p.StandardOutput.ReadToEnd() + p.StandardError.ReadToEnd();
            p.WaitForExit();
            return (p.ExitCode, text);
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            return (-1, e.Message);
        }
    }
}
