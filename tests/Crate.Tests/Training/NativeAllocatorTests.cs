using Crate.Core.Runtime;

namespace Crate.Tests.Training;

/// <summary>The allocator relaunch: decision, command-line reconstruction, the child launch and signals.</summary>
public class NativeAllocatorTests
{
    private const string JemallocPath = "/usr/lib/x86_64-linux-gnu/libjemalloc.so.2";

    private static AllocatorDecision Decide(Dictionary<string, string?> env, params string[] installed) =>
        NativeAllocator.Decide(env, isLinux: true, installed.Contains);

    [Fact]
    public void RelaunchesWithThePreferredAllocatorAndItsTuning()
    {
        var d = Decide(new() { ["LD_PRELOAD"] = "/opt/other.so" }, JemallocPath);
        Assert.Equal(AllocatorAction.Relaunch, d.Action);
        Assert.Equal(JemallocPath + ":/opt/other.so", d.Environment!["LD_PRELOAD"]);
        Assert.Equal("dirty_decay_ms:-1,muzzy_decay_ms:-1", d.Environment["MALLOC_CONF"]);
        Assert.Equal("jemalloc", d.Environment[NativeAllocator.ActiveVariable]);
    }

    [Fact]
    public void KeepsTheUsersOwnTuning()
    {
        var d = Decide(new() { ["MALLOC_CONF"] = "narenas:2" }, JemallocPath);
        Assert.Equal(AllocatorAction.Relaunch, d.Action);
        Assert.False(d.Environment!.ContainsKey("MALLOC_CONF"));
    }

    [Theory]
    [InlineData(NativeAllocator.SelectVariable, "system")]
    [InlineData(NativeAllocator.ActiveVariable, "jemalloc")]
    [InlineData("LD_PRELOAD", "/usr/local/lib/libjemalloc.so.2")]
    public void ContinuesWhenDisabledOrAlreadyActive(string variable, string value) =>
        Assert.Equal(AllocatorAction.Continue, Decide(new() { [variable] = value }, JemallocPath).Action);

    [Fact]
    public void ContinuesOffLinux() =>
        Assert.Equal(AllocatorAction.Continue, NativeAllocator.Decide(new Dictionary<string, string?>(), isLinux: false, _ => true).Action);

    [Fact]
    public void WarnsOnceWhenTheLibraryIsMissing()
    {
        var d = Decide(new());
        Assert.Equal(AllocatorAction.Warn, d.Action);
        Assert.Contains("apt-get install libjemalloc2", d.Message);
        Assert.Contains("CRATE_ALLOCATOR=system", d.Message);
        Assert.Equal(AllocatorAction.Warn, Decide(new() { [NativeAllocator.SelectVariable] = "tcmalloc" }, JemallocPath).Action);
    }

    [Fact]
    public void MimallocCanBeChosen()
    {
        var d = Decide(new() { [NativeAllocator.SelectVariable] = "mimalloc" }, "/usr/lib64/libmimalloc.so.2");
        Assert.Equal(AllocatorAction.Relaunch, d.Action);
        Assert.Equal("/usr/lib64/libmimalloc.so.2", d.Environment!["LD_PRELOAD"]);
    }

    [Fact]
    public void RepeatsTheCommandLineForDotnetAndForTheAppHost()
    {
        // /proc/self/cmdline keeps everything after argv[0], including dotnet's own options.
        var proc = NativeAllocator.ParseCommandLine("dotnet\0exec\0--runtimeconfig\0c.json\0crate.dll\0reproduce\0--set\0a b\0");
        var (file, args) = NativeAllocator.ChildCommand("/usr/share/dotnet/dotnet", proc, ["crate.dll", "reproduce"]);
        Assert.Equal("/usr/share/dotnet/dotnet", file);
        Assert.Equal(["exec", "--runtimeconfig", "c.json", "crate.dll", "reproduce", "--set", "a b"], args);

        // Without /proc: under dotnet the entry assembly (GetCommandLineArgs()[0]) comes first; an apphost takes the rest.
        Assert.Equal(["/app/crate.dll", "list"], NativeAllocator.ChildCommand("/usr/bin/dotnet", null, ["/app/crate.dll", "list"]).Arguments);
        Assert.Equal(["list"], NativeAllocator.ChildCommand("/app/crate", null, ["/app/crate.dll", "list"]).Arguments);
        Assert.Equal([""], NativeAllocator.ParseCommandLine("\0"));
    }

    [Fact]
    public void ReadsThisProcessCommandLine()
    {
        var argv = NativeAllocator.ReadProcCommandLine();
        Assert.NotNull(argv);
        Assert.Contains(argv, a => a.Contains("testhost", StringComparison.OrdinalIgnoreCase) || a.EndsWith(".dll", StringComparison.Ordinal));
    }

    [Fact]
    public void DetectsThePreloadedAllocatorFromTheMaps()
    {
        string maps = Path.GetTempFileName();
        try
        {
            File.WriteAllText(maps, "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libjemalloc.so.2\n");
            Assert.Equal("jemalloc", NativeAllocator.ActiveAllocator(maps));
            File.WriteAllText(maps, "7f00-7f01 r-xp 00000000 08:01 1 /usr/lib/x86_64-linux-gnu/libc.so.6\n");
            Assert.Null(NativeAllocator.ActiveAllocator(maps));
        }
        finally { File.Delete(maps); }
    }
}
