using System.Runtime.InteropServices;

namespace Crate.Core.Runtime;

/// <summary>A malloc replacement that can be preloaded, with the environment that tunes it.</summary>
/// <param name="Name">Value of <c>CRATE_ALLOCATOR</c> that selects it.</param>
/// <param name="LibraryFile">The shared object's file name (<c>libjemalloc.so.2</c>).</param>
/// <param name="Package">The Debian/Ubuntu package that installs it.</param>
/// <param name="Tuning">Environment variables set for it (only where the user has not set them).</param>
public sealed record AllocatorInfo(string Name, string LibraryFile, string Package, IReadOnlyDictionary<string, string> Tuning);

/// <summary>What <see cref="NativeAllocator.Decide"/> concluded.</summary>
public enum AllocatorAction
{
    /// <summary>Keep running in this process (already active, disabled, or not Linux).</summary>
    Continue,
    /// <summary>Keep running, after printing <see cref="AllocatorDecision.Message"/> once (library missing, bad value).</summary>
    Warn,
    /// <summary>Re-execute this process with <see cref="AllocatorDecision.Environment"/> added.</summary>
    Relaunch,
}

/// <summary>A decision with its reason and, for a relaunch, the variables to set in the child.</summary>
public sealed record AllocatorDecision(AllocatorAction Action, string Message, AllocatorInfo? Allocator = null,
    string? Library = null, IReadOnlyDictionary<string, string>? Environment = null);

/// <summary>
/// Puts a better malloc under libtorch. With glibc's malloc, RSS of a training run grows without bound
/// (2.0 → 6.4 GiB over 300 steps of the prototype; README.md, "Memory") although the live tensors stay
/// constant: freed activation buffers stay in fragmented arenas. Preloading jemalloc with its decay
/// disabled keeps RSS flat (measurements in the README's Memory section).
/// <para>
/// A preloaded allocator must be in place when the process starts, so the host calls
/// <see cref="RelaunchIfNeeded"/> first thing in <c>Main</c>: when the preferred allocator is installed and
/// not active, the same command line is executed again in the same process (execve) with <c>LD_PRELOAD</c>
/// and the tuning variables set: same PID, stdin/stdout/stderr and signals, so Ctrl-C and kill behave as
/// without the allocator.
/// <c>CRATE_ALLOCATOR=system</c> turns this off; <c>CRATE_ALLOCATOR=mimalloc</c> picks mimalloc instead.
/// A missing library costs one warning, never a failure.
/// </para>
/// </summary>
public static class NativeAllocator
{
    /// <summary>Selects the allocator: <c>jemalloc</c> (default), <c>mimalloc</c> or <c>system</c>.</summary>
    public const string SelectVariable = "CRATE_ALLOCATOR";

    /// <summary>Set in the relaunched child to the allocator's name, so it does not relaunch again.</summary>
    public const string ActiveVariable = "CRATE_ALLOCATOR_ACTIVE";

    /// <summary>jemalloc with dirty/muzzy page decay off: pages freed by one step are reused by the next.</summary>
    public static readonly AllocatorInfo Jemalloc = new("jemalloc", "libjemalloc.so.2", "libjemalloc2",
        new Dictionary<string, string> { ["MALLOC_CONF"] = "dirty_decay_ms:-1,muzzy_decay_ms:-1" });

    /// <summary>mimalloc with its defaults.</summary>
    public static readonly AllocatorInfo Mimalloc = new("mimalloc", "libmimalloc.so.2", "libmimalloc2.0",
        new Dictionary<string, string>());

    /// <summary>The allocator used when <c>CRATE_ALLOCATOR</c> is unset or <c>auto</c>.</summary>
    public static AllocatorInfo Preferred => Jemalloc;

    /// <summary>Folders searched for the library, in order.</summary>
    public static IReadOnlyList<string> SearchFolders { get; } =
    [
        "/usr/lib/x86_64-linux-gnu", "/usr/lib/aarch64-linux-gnu", "/usr/lib64", "/usr/lib", "/usr/local/lib", "/lib/x86_64-linux-gnu",
    ];

    /// <summary>
    /// Call first thing in <c>Main</c>: <c>if (NativeAllocator.RelaunchIfNeeded() is { } code) return code;</c>.
    /// On a relaunch the process image is replaced (execve) and this never returns; otherwise it returns
    /// null to continue in this process (after writing a warning to <paramref name="warn"/>, by default
    /// standard error, when the allocator is missing or the re-execution failed).
    /// </summary>
    public static int? RelaunchIfNeeded(Action<string>? warn = null)
    {
        var environment = System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);
        var decision = Decide(environment, OperatingSystem.IsLinux(), File.Exists);
        switch (decision.Action)
        {
            case AllocatorAction.Warn:
                (warn ?? (m => Console.Error.WriteLine("crate: warning: " + m)))(decision.Message);
                return null;
            case AllocatorAction.Relaunch when System.Environment.ProcessPath is null:
                (warn ?? (m => Console.Error.WriteLine("crate: warning: " + m)))(
                    $"cannot relaunch with {decision.Allocator!.Name}: the executable's path is unknown; using the system malloc");
                return null;
            case AllocatorAction.Relaunch:
                var (file, arguments) = ChildCommand(System.Environment.ProcessPath, ReadProcCommandLine(),
                    System.Environment.GetCommandLineArgs());
                var failure = Exec(file, arguments, decision.Environment!);   // returns only on failure
                (warn ?? (m => Console.Error.WriteLine("crate: warning: " + m)))($"{failure}; using the system malloc");
                return null;
            default:
                return null;
        }
    }

    /// <summary>The decision for a process with <paramref name="environment"/>; pure, for tests.</summary>
    public static AllocatorDecision Decide(IReadOnlyDictionary<string, string?> environment, bool isLinux, Func<string, bool> fileExists)
    {
        string? Get(string name) => environment.TryGetValue(name, out var v) && !string.IsNullOrEmpty(v) ? v : null;
        if (!isLinux) return new(AllocatorAction.Continue, "not Linux: LD_PRELOAD does not apply");
        if (Get(ActiveVariable) is { } active) return new(AllocatorAction.Continue, $"{active} is active (relaunched)");

        string mode = (Get(SelectVariable) ?? "auto").Trim().ToLowerInvariant();
        if (mode is "system" or "glibc" or "off") return new(AllocatorAction.Continue, $"{SelectVariable}={mode}: system malloc");
        AllocatorInfo? allocator = mode switch
        {
            "auto" => Preferred,
            "jemalloc" => Jemalloc,
            "mimalloc" => Mimalloc,
            _ => null,
        };
        if (allocator is null)
            return new(AllocatorAction.Warn, $"{SelectVariable}='{Get(SelectVariable)}' is not one of auto, jemalloc, mimalloc, system; " +
                                             "using the system malloc");

        string preload = Get("LD_PRELOAD") ?? "";
        if (preload.Contains(allocator.LibraryFile.Split('.')[0], StringComparison.Ordinal))
            return new(AllocatorAction.Continue, $"{allocator.Name} is already in LD_PRELOAD", allocator);

        string? library = SearchFolders.Select(f => Path.Combine(f, allocator.LibraryFile)).FirstOrDefault(fileExists);
        if (library is null)
            return new(AllocatorAction.Warn,
                $"{allocator.Name} ({allocator.LibraryFile}) is not installed, so training runs on the system malloc, whose memory " +
                $"can grow by several GiB over a long run. Install it (Debian/Ubuntu: apt-get install {allocator.Package}) " +
                $"or set {SelectVariable}=system to silence this warning.", allocator);

        var set = new Dictionary<string, string>(StringComparer.Ordinal)
        {
            ["LD_PRELOAD"] = preload.Length == 0 ? library : library + ":" + preload,
            [ActiveVariable] = allocator.Name,
        };
        foreach (var (name, value) in allocator.Tuning)
            if (Get(name) is null) set[name] = value;
        return new(AllocatorAction.Relaunch, $"relaunching with {allocator.Name} ({library})", allocator, library, set);
    }

    /// <summary>
    /// The program and arguments that repeat this process's command line: <paramref name="processPath"/> (the
    /// real executable: the apphost, or <c>dotnet</c> for <c>dotnet crate.dll …</c>) with argv[1..] from
    /// /proc/self/cmdline, which keeps host options such as <c>dotnet exec --runtimeconfig …</c>. Without
    /// /proc, the managed arguments are used and, under <c>dotnet</c>, the entry assembly is put first.
    /// </summary>
    public static (string FileName, IReadOnlyList<string> Arguments) ChildCommand(string processPath,
        IReadOnlyList<string>? procCommandLine, IReadOnlyList<string> commandLineArgs)
    {
        if (procCommandLine is { Count: > 0 }) return (processPath, procCommandLine.Skip(1).ToList());
        bool underDotnet = Path.GetFileNameWithoutExtension(processPath).Equals("dotnet", StringComparison.OrdinalIgnoreCase);
        var rest = commandLineArgs.Skip(1);
        return (processPath, (underDotnet ? commandLineArgs.Take(1).Concat(rest) : rest).ToList());
    }

    /// <summary>This process's argv from /proc/self/cmdline (NUL-separated), or null where there is none.</summary>
    public static IReadOnlyList<string>? ReadProcCommandLine(string path = "/proc/self/cmdline")
    {
        if (!File.Exists(path)) return null;
        var text = System.Text.Encoding.UTF8.GetString(File.ReadAllBytes(path));
        return ParseCommandLine(text);
    }

    /// <summary>Splits a NUL-separated argv block (the trailing NUL is optional).</summary>
    public static IReadOnlyList<string> ParseCommandLine(string block) =>
        (block.EndsWith('\0') ? block[..^1] : block).Split('\0');

    /// <summary>
    /// Replaces this process's image with <paramref name="fileName"/> (execve): same PID, same stdin/stdout/
    /// stderr, same process group, so Ctrl-C, <c>kill</c> and <c>kill -9</c> reach the process that does the
    /// work and nothing is left behind. Returns only when execve failed, with the reason.
    /// </summary>
    public static string Exec(string fileName, IReadOnlyList<string> arguments, IReadOnlyDictionary<string, string> environment)
    {
        var env = System.Environment.GetEnvironmentVariables().Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value ?? "", StringComparer.Ordinal);
        foreach (var (name, value) in environment) env[name] = value;
        string?[] argv = [fileName, .. arguments, null];
        string?[] envp = [.. env.Select(kv => kv.Key + "=" + kv.Value), null];
        Console.Out.Flush();
        Console.Error.Flush();
        execve(fileName, argv, envp);
        return $"execve({fileName}) failed: errno {Marshal.GetLastPInvokeError()}";
    }

    // LPStr is UTF-8 on Unix in .NET; the arrays end with a null element as execve requires.
    [DllImport("libc", SetLastError = true)]
    private static extern int execve([MarshalAs(UnmanagedType.LPUTF8Str)] string path,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] argv,
        [MarshalAs(UnmanagedType.LPArray, ArraySubType = UnmanagedType.LPStr)] string?[] envp);

    /// <summary>The preloaded allocator mapped into this process ("jemalloc", "mimalloc"), or null for the system malloc.</summary>
    public static string? ActiveAllocator(string mapsPath = "/proc/self/maps")
    {
        if (!File.Exists(mapsPath)) return null;
        string maps = File.ReadAllText(mapsPath);
        return new[] { Jemalloc, Mimalloc }.FirstOrDefault(a => maps.Contains(a.LibraryFile.Split('.')[0], StringComparison.Ordinal))?.Name;
    }
}
