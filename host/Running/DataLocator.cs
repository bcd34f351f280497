using Crate.Core.Contract;
using Crate.Host.Plugins;

namespace Crate.Host.Running;

/// <summary>
/// Finds the folder of a named dataset: <c>--data name=DIR</c> first, then the shipped default under the
/// repository's <c>data/</c> folder (searched upward from the working directory and from the host's
/// folder, or <c>CRATE_DATA_DIR</c>), then the distribution's system path (e.g. Debian's
/// dataset-fashion-mnist). A folder that is named but missing is an error, not a fallback.
/// </summary>
public sealed class DataLocator(IReadOnlyDictionary<string, string> overrides)
{
    /// <summary>Parses <c>name=DIR</c> pairs.</summary>
    public static DataLocator FromArgs(IEnumerable<string> pairs)
    {
        var map = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var p in pairs)
        {
            int eq = p.IndexOf('=');
            if (eq <= 0 || eq == p.Length - 1) throw new UsageException($"--data {p}: expected name=DIR, e.g. --data fashion-mnist=/usr/share/datasets/fashion-mnist");
            map[p[..eq].Trim()] = Path.GetFullPath(p[(eq + 1)..].Trim());
        }
        return new DataLocator(map);
    }

    /// <summary>The names given with --data.</summary>
    public IReadOnlyDictionary<string, string> Overrides => overrides;

    /// <summary>Resolves <paramref name="need"/> or throws with what was tried and how to get the data.</summary>
    public string Resolve(DatasetNeed need)
    {
        if (overrides.TryGetValue(need.Name, out var given))
            return Directory.Exists(given) ? given
                : throw new DataMissingException($"data folder for '{need.Name}' does not exist: {given} (from --data {need.Name}=...)");
        var tried = new List<string>();
        if (need.ShippedDefault is { } shipped)
        {
            foreach (var root in DataRoots())
            {
                var candidate = Path.Combine(root, shipped);
                if (Directory.Exists(candidate)) return candidate;
                tried.Add(candidate);
            }
        }
        if (need.SystemPath is { } system)
        {
            if (Directory.Exists(system)) return system;
            tried.Add(system);
        }
        throw new DataMissingException($"no data folder for '{need.Name}' ({need.Description}). Tried: {string.Join(", ", tried.DefaultIfEmpty("nothing"))}. "
            + (need.HowToGet ?? "") + $" Or pass --data {need.Name}=DIR.");
    }

    /// <summary>Candidate <c>data/</c> folders: CRATE_DATA_DIR, then upward from the working directory and the host.</summary>
    public static IEnumerable<string> DataRoots()
    {
        if (Environment.GetEnvironmentVariable("CRATE_DATA_DIR") is { Length: > 0 } env) yield return Path.GetFullPath(env);
        var seen = new HashSet<string>();
        foreach (var start in new[] { Directory.GetCurrentDirectory(), AppContext.BaseDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
            {
                var data = Path.Combine(dir.FullName, "data");
                if (File.Exists(Path.Combine(dir.FullName, "Crate.sln")) || Directory.Exists(data))
                    if (seen.Add(data) && Directory.Exists(data)) yield return data;
            }
        }
    }
}

/// <summary>A dataset folder could not be found.</summary>
public sealed class DataMissingException(string message) : BadInputException(message);
