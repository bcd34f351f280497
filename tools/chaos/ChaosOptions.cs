using System.Globalization;

namespace Crate.Chaos;

/// <summary>The command line of the chaos test.</summary>
public sealed record ChaosOptions(int Kills, int Seed, string[] Tasks, string Host, string? Work, bool Keep)
{
    /// <summary>Extra <c>reproduce</c> arguments: a checkpoint every two steps, so kills find checkpoints to write and rotate.</summary>
    public static readonly string[] ReproduceExtra = ["--preset", "smoke", "--seeds", "0", "--set", "train.checkpoint_every=2"];

    /// <summary>Parses <c>--kills N --seed S --tasks a,b --host PATH --work DIR --keep</c>; a missing seed is drawn (and printed).</summary>
    public static ChaosOptions Parse(string[] args)
    {
        string? Value(string name)
        {
            int i = Array.IndexOf(args, name);
            return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
        }
        int Int(string name, int fallback) => Value(name) is { } v ? int.Parse(v, CultureInfo.InvariantCulture) : fallback;
        var root = FindRoot();
        return new ChaosOptions(
            Kills: Int("--kills", 5),
            Seed: Int("--seed", Random.Shared.Next(1, 100_000)),
            Tasks: (Value("--tasks") ?? "vit,mae").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
            Host: Path.GetFullPath(Value("--host") ?? Path.Combine(root, "host", "bin", "Release", "net10.0", "crate.dll")),
            Work: Value("--work") is { } w ? Path.GetFullPath(w) : null,
            Keep: args.Contains("--keep"));
    }

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "Crate.sln"))) return dir.FullName;
        return Directory.GetCurrentDirectory();
    }
}
