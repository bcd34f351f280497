using System.Reflection;
using Crate.Core.Contract;
using McMaster.NETCore.Plugins;
using Microsoft.Extensions.Logging;

namespace Crate.Host.Plugins;

/// <summary>A task found in a plugin assembly, with where it was loaded from.</summary>
public sealed record LoadedTask(ICrateTask Task, string AssemblyPath, string Folder);

/// <summary>A plugin that could not be loaded, and why.</summary>
public sealed record PluginFailure(string Path, string Reason);

/// <summary>
/// Discovers task plugins: every <c>plugins/&lt;name&gt;/&lt;assembly&gt;.dll</c> under the host's folder and
/// under each extra folder (<c>--plugins DIR</c>, which may also point straight at a plugin folder or a
/// .dll). Plugins share the contract's, TorchSharp's and the Microsoft.Extensions abstractions' types
/// with the host, so there is one TorchSharp and one libtorch in the process. A plugin that fails to
/// load is recorded with its cause; the others still load.
/// </summary>
public sealed class PluginCatalog
{
    private static readonly Type[] SharedTypes =
    [
        typeof(ICrateTask),                 // Crate.Core (and what it references)
        typeof(TorchSharp.torch),           // one TorchSharp, one libtorch
        typeof(ILogger),                    // Microsoft.Extensions.Logging.Abstractions
    ];

    private readonly List<LoadedTask> _tasks = [];
    private readonly List<PluginFailure> _failures = [];

    /// <summary>Tasks found, in name order.</summary>
    public IReadOnlyList<LoadedTask> Tasks => _tasks;

    /// <summary>Plugins that failed to load.</summary>
    public IReadOnlyList<PluginFailure> Failures => _failures;

    /// <summary>The default plugin folder: <c>plugins/</c> beside the host's assembly.</summary>
    public static string DefaultFolder => Path.Combine(AppContext.BaseDirectory, "plugins");

    /// <summary>Scans the default folder (unless <paramref name="includeDefault"/> is false) and <paramref name="extraFolders"/>.</summary>
    public static PluginCatalog Discover(IEnumerable<string> extraFolders, bool includeDefault = true)
    {
        var catalog = new PluginCatalog();
        var candidates = new List<string>();
        if (includeDefault && Directory.Exists(DefaultFolder)) candidates.AddRange(PluginAssemblies(DefaultFolder));
        foreach (var extra in extraFolders)
        {
            var full = Path.GetFullPath(extra);
            if (File.Exists(full) && full.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)) candidates.Add(full);
            else if (Directory.Exists(full))
            {
                var found = PluginAssemblies(full).ToList();
                if (found.Count == 0) catalog._failures.Add(new(full, "no plugin assembly found (expected <name>.dll with a <name>.deps.json, directly or in a subfolder)"));
                candidates.AddRange(found);
            }
            else catalog._failures.Add(new(full, "plugin folder or file does not exist"));
        }
        foreach (var path in candidates.Distinct(StringComparer.Ordinal)) catalog.Load(path);
        catalog._tasks.Sort((a, b) => string.CompareOrdinal(a.Task.Name, b.Task.Name));
        return catalog;
    }

    /// <summary>
    /// A plugin folder holds <c>X.dll</c> with <c>X.deps.json</c> (the plugin's own assembly). A folder of
    /// plugin folders is searched one level down.
    /// </summary>
    private static IEnumerable<string> PluginAssemblies(string folder)
    {
        IEnumerable<string> Own(string dir) => Directory.EnumerateFiles(dir, "*.deps.json")
            .Select(deps => deps[..^".deps.json".Length] + ".dll")
            .Where(File.Exists)
            .Order(StringComparer.Ordinal);
        var direct = Own(folder).ToList();
        if (direct.Count > 0) return direct;
        return Directory.EnumerateDirectories(folder).Order(StringComparer.Ordinal).SelectMany(Own).ToList();
    }

    private void Load(string assemblyPath)
    {
        Assembly assembly;
        try
        {
            var loader = PluginLoader.CreateFromAssemblyFile(assemblyPath, SharedTypes, c => c.PreferSharedTypes = true);
            assembly = loader.LoadDefaultAssembly();
        }
        catch (Exception e)
        {
            _failures.Add(new(assemblyPath, $"cannot load assembly: {Describe(e)}"));
            return;
        }

        var marker = assembly.GetCustomAttribute<CratePluginAttribute>();
        if (marker is null)
        {
            _failures.Add(new(assemblyPath, "not a CRATE plugin: the assembly has no [assembly: CratePlugin(PluginContract.Version)]"));
            return;
        }
        if (marker.ContractVersion != PluginContract.Version)
        {
            _failures.Add(new(assemblyPath, $"contract version {marker.ContractVersion}, but this host implements version {PluginContract.Version}: rebuild the plugin against this Crate.Core"));
            return;
        }

        Type[] types;
        try { types = assembly.GetTypes(); }
        catch (ReflectionTypeLoadException e)
        {
            var causes = e.LoaderExceptions.Where(x => x is not null).Select(x => x!.Message).Distinct().Take(3);
            _failures.Add(new(assemblyPath, $"type load error: {string.Join("; ", causes)}"));
            return;
        }

        var taskTypes = types.Where(t => typeof(ICrateTask).IsAssignableFrom(t) && t is { IsAbstract: false, IsInterface: false }).ToList();
        if (taskTypes.Count == 0)
        {
            _failures.Add(new(assemblyPath, "no public ICrateTask implementation found"));
            return;
        }
        foreach (var type in taskTypes)
        {
            try
            {
                var task = (ICrateTask)Activator.CreateInstance(type)!;
                if (_tasks.FirstOrDefault(t => t.Task.Name == task.Name) is { } dup)
                {
                    _failures.Add(new(assemblyPath, $"task '{task.Name}' is already provided by {dup.AssemblyPath}; this one is ignored"));
                    continue;
                }
                _tasks.Add(new(task, assemblyPath, Path.GetDirectoryName(assemblyPath)!));
            }
            catch (Exception e)
            {
                _failures.Add(new(assemblyPath, $"{type.FullName} could not be created: {Describe(e)}"));
            }
        }
    }

    private static string Describe(Exception e)
    {
        while (e is TargetInvocationException or TypeInitializationException && e.InnerException is not null) e = e.InnerException!;
        return e switch
        {
            FileNotFoundException f => $"missing file {f.FileName ?? f.Message}",
            BadImageFormatException b => $"not a valid .NET assembly ({b.FileName ?? b.Message})",
            _ => $"{e.GetType().Name}: {e.Message}",
        };
    }

    /// <summary>The task named <paramref name="name"/>, or an exception listing the known tasks.</summary>
    public LoadedTask Get(string name) =>
        _tasks.FirstOrDefault(t => t.Task.Name == name)
        ?? throw new UsageException($"unknown task '{name}'. Loaded tasks: {(Tasks.Count == 0 ? "none" : string.Join(", ", Tasks.Select(t => t.Task.Name)))}."
            + (Failures.Count > 0 ? $" {Failures.Count} plugin(s) failed to load; run 'list' to see why." : ""));
}

/// <summary>A user error: printed as one line, exit code 2.</summary>
public sealed class UsageException(string message) : Crate.Core.Contract.BadInputException(message);
