using System.Diagnostics;
using System.Text;

namespace Crate.Tests.Host;

/// <summary>
/// Debian's headless Chromium (<c>apt-get install chromium</c>; <c>scripts/setup.sh chromium</c>, which CI runs), started
/// with a fresh profile and every background connection off (this network refuses them): for the HTML report's browser test.
/// </summary>
public static class Chromium
{
    /// <summary>The browser: <c>$CRATE_CHROMIUM</c>, else the first of chromium, chromium-browser, google-chrome on the PATH; null when none.</summary>
    public static string? Find()
    {
        if (Environment.GetEnvironmentVariable("CRATE_CHROMIUM") is { Length: > 0 } configured) return configured;
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        return new[] { "chromium", "chromium-browser", "google-chrome" }
            .SelectMany(name => path.Split(':', StringSplitOptions.RemoveEmptyEntries).Select(dir => Path.Combine(dir, name)))
            .FirstOrDefault(File.Exists);
    }

    /// <summary>Output of one browser run.</summary>
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        /// <inheritdoc />
        public override string ToString() => $"exit {ExitCode}\n--- stderr\n{Stderr}";
    }

    /// <summary>Runs the headless browser on <paramref name="url"/> with <paramref name="args"/> (e.g. <c>--dump-dom</c>, <c>--screenshot=PATH</c>).</summary>
    public static Result Run(string browser, string url, params string[] args)
    {
        var profile = HostProcess.TempDir("chromium-profile");
        var psi = new ProcessStartInfo(browser)
        {
            RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false,
        };
        foreach (var a in (string[])["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync", "--hide-scrollbars",
                     $"--user-data-dir={profile}", "--virtual-time-budget=15000", .. args, url])
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        p.OutputDataReceived += (_, e) => { if (e.Data is not null) lock (stdout) stdout.AppendLine(e.Data); };
        p.ErrorDataReceived += (_, e) => { if (e.Data is not null) lock (stderr) stderr.AppendLine(e.Data); };
        p.BeginOutputReadLine();
        p.BeginErrorReadLine();
        if (!p.WaitForExit(TimeSpan.FromMinutes(2)))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"chromium did not finish on {url}\n{stderr}");
        }
        p.WaitForExit();
        try { Directory.Delete(profile, recursive: true); }
        catch (IOException) { }
        return new Result(p.ExitCode, stdout.ToString(), stderr.ToString());
    }
}
