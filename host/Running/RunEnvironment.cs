using System.Diagnostics;
using System.Reflection;
using System.Runtime.InteropServices;
using Crate.Results;

namespace Crate.Host.Running;

/// <summary>Code version and machine facts recorded with every run.</summary>
public static class RunEnvironment
{
    /// <summary>The git commit and dirty flag of the source tree the host was built from, where git can tell.</summary>
    public static CodeVersion Code()
    {
        var root = RepoRoot();
        if (root is null) return new CodeVersion { Commit = BuildCommit() ?? "unknown", Dirty = null, Describe = "no git work tree found" };
        var commit = Git(root, "rev-parse HEAD");
        var status = Git(root, "status --porcelain --untracked-files=no");
        return new CodeVersion
        {
            Commit = commit ?? BuildCommit() ?? "unknown",
            Dirty = status is null ? null : status.Length > 0,
            Describe = Git(root, "describe --always --dirty") ?? "",
        };
    }

    /// <summary>OS, runtime, TorchSharp and libtorch versions, device and threads.</summary>
    public static EnvironmentInfo Describe(string device, int threads) => new()
    {
        Os = RuntimeInformation.OSDescription,
        DotNet = RuntimeInformation.FrameworkDescription,
        TorchSharp = typeof(TorchSharp.torch).Assembly.GetName().Version?.ToString() ?? "unknown",
        LibTorch = Metadata("LibTorchPackage") ?? "unknown",
        Device = device,
        Threads = threads,
        Machine = $"{Environment.MachineName}, {Environment.ProcessorCount} cores, {RuntimeInformation.ProcessArchitecture}",
        Allocator = Crate.Core.Runtime.NativeAllocator.ActiveAllocator() ?? "glibc",
    };

    private static string? Metadata(string key) => typeof(RunEnvironment).Assembly
        .GetCustomAttributes<AssemblyMetadataAttribute>().FirstOrDefault(a => a.Key == key)?.Value;

    private static string? BuildCommit() => Metadata("SourceCommit") is { Length: > 0 } c ? c : null;

    private static string? RepoRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Directory.GetCurrentDirectory() })
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (Directory.Exists(Path.Combine(dir.FullName, ".git")) || File.Exists(Path.Combine(dir.FullName, ".git")))
                    return dir.FullName;
        return null;
    }

    private static string? Git(string root, string args)
    {
        try
        {
            var psi = new ProcessStartInfo("git", $"-C \"{root}\" {args}")
            {
                RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
            };
            using var p = Process.Start(psi)!;
            var output = p.StandardOutput.ReadToEnd().Trim();
            return p.WaitForExit(10_000) && p.ExitCode == 0 ? output : null;
        }
        catch (Exception) { return null; }
    }
}
