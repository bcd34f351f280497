using System.Diagnostics;
using System.Text;

namespace Crate.Tests.Host;

/// <summary>Runs the built host (<c>host/bin/&lt;cfg&gt;/net10.0/crate.dll</c>) as a real process, as a user would.</summary>
public static class HostProcess
{
    /// <summary>The repository root (the folder holding Crate.sln).</summary>
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>Debug or Release, as this test assembly was built.</summary>
    public static string Configuration { get; } =
        AppContext.BaseDirectory.Contains($"{Path.DirectorySeparatorChar}Release{Path.DirectorySeparatorChar}") ? "Release" : "Debug";

    /// <summary>The host's output folder.</summary>
    public static string HostDir => Path.Combine(RepoRoot, "host", "bin", Configuration, "net10.0");

    /// <summary>The sample plugin's own output folder (outside the host's plugins folder).</summary>
    public static string SampleDir => Path.Combine(RepoRoot, "samples", "Crate.Plugins.Sample", "bin", Configuration, "net10.0");

    /// <summary>Output of a finished host process.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <inheritdoc />
        public override string ToString() => $"exit {ExitCode}\n--- stdout\n{Stdout}\n--- stderr\n{Stderr}";
    }

    /// <summary>Starts the host with <paramref name="args"/>; the caller reads or kills it.</summary>
    public static Process Start(IEnumerable<string> args, string? workingDirectory = null, IDictionary<string, string>? env = null)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        psi.ArgumentList.Add(Path.Combine(HostDir, "crate.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        psi.Environment["CRATE_LOG_LEVEL"] = "Warning";
        psi.Environment.Remove("CRATE_OUT");
        if (env is not null) foreach (var (k, v) in env) psi.Environment[k] = v;
        return Process.Start(psi)!;
    }

    /// <summary>Runs the host to completion (or fails the test after <paramref name="timeout"/>).</summary>
    public static Result Run(IEnumerable<string> args, TimeSpan? timeout = null, string? workingDirectory = null, IDictionary<string, string>? env = null)
    {
        using var p = Start(args, workingDirectory, env);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(timeout ?? TimeSpan.FromMinutes(3)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"host did not finish: {string.Join(" ", args)}\n{stdout}\n{stderr}");
        }
        p.WaitForExit();
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }

    /// <summary>A fresh temporary folder.</summary>
    public static string TempDir(string name)
    {
        var dir = Path.Combine(Path.GetTempPath(), "crate-tests", $"{name}-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        return dir;
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Crate.sln"))) return dir.FullName;
        throw new InvalidOperationException("Crate.sln not found above " + AppContext.BaseDirectory);
    }
}
