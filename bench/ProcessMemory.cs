namespace Crate.Bench;

/// <summary>Resident memory of this process from /proc/self/status (Linux).</summary>
internal static class ProcessMemory
{
    /// <summary>Current resident set size in MiB (VmRSS), or NaN where /proc is absent.</summary>
    public static double RssMiB() => ReadKiB("VmRSS:") / 1024.0;

    /// <summary>Peak resident set size in MiB (VmHWM) since start or the last <see cref="ResetPeak"/>.</summary>
    public static double PeakMiB() => ReadKiB("VmHWM:") / 1024.0;

    /// <summary>Resets VmHWM to the current RSS (writes 5 to /proc/self/clear_refs); false if not allowed.</summary>
    public static bool ResetPeak()
    {
        try
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    /// <summary>"jemalloc" when libjemalloc is mapped into the process (e.g. LD_PRELOAD), else "glibc".</summary>
    public static string Allocator()
    {
        try
        {
            return File.ReadLines("/proc/self/maps").Any(l => l.Contains("libjemalloc", StringComparison.Ordinal))
                ? "jemalloc" : "glibc";
        }
        catch (IOException)
        {
            return "unknown";
        }
    }

    private static double ReadKiB(string field)
    {
        try
        {
            foreach (var line in File.ReadLines("/proc/self/status"))
                if (line.StartsWith(field, StringComparison.Ordinal))
                    return double.Parse(line[field.Length..].Trim().Split(' ')[0], System.Globalization.CultureInfo.InvariantCulture);
        }
        catch (IOException)
        {
        }
        return double.NaN;
    }
}
