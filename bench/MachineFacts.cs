using System.Diagnostics;
using System.Globalization;

namespace Crate.Bench;

/// <summary>What makes two benchmark runs comparable: the CPU, its bf16/AMX flags, threads, load and the commit.</summary>
internal sealed record MachineFacts(
    string CpuModel, int LogicalCpus, bool Avx512Bf16, bool AmxBf16, bool AmxTile, bool Avx512F, int TorchThreads,
    string LoadAverageAtStart, string Commit, bool WorkingTreeDirty, string Allocator, string StartedUtc)
{
    public static MachineFacts Read(int torchThreads)
    {
        string model = "unknown";
        var flags = new HashSet<string>(StringComparer.Ordinal);
        try
        {
            foreach (var line in File.ReadLines("/proc/cpuinfo"))
            {
                if (model == "unknown" && line.StartsWith("model name", StringComparison.Ordinal)) model = line[(line.IndexOf(':') + 1)..].Trim();
                if (flags.Count == 0 && line.StartsWith("flags", StringComparison.Ordinal))
                    flags.UnionWith(line[(line.IndexOf(':') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries));
            }
        }
        catch (IOException) { }
        string load;
        try { load = string.Join(" ", File.ReadAllText("/proc/loadavg").Split(' ').Take(3)); }
        catch (IOException) { load = "unknown"; }
        string commit = Git("rev-parse HEAD") ?? "unknown";
        bool dirty = (Git("status --porcelain --untracked-files=no") ?? "").Length > 0;
        return new MachineFacts(model, Environment.ProcessorCount, flags.Contains("avx512_bf16"), flags.Contains("amx_bf16"), flags.Contains("amx_tile"),
            flags.Contains("avx512f"), torchThreads, load, commit, dirty, ProcessMemory.Allocator(),
            DateTime.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture));
    }

    /// <summary>The output of <c>git <paramref name="arguments"/></c> run in the current folder, or null when git is absent or fails.</summary>
    private static string? Git(string arguments)
    {
        try
        {
            using var p = Process.Start(new ProcessStartInfo("git", arguments) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false });
            if (p is null) return null;
            string output = p.StandardOutput.ReadToEnd().Trim();
            p.WaitForExit();
            return p.ExitCode == 0 ? output : null;
        }
        catch (Exception e) when (e is System.ComponentModel.Win32Exception or InvalidOperationException)
        {
            return null;
        }
    }
}
