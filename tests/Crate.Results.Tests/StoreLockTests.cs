using System.Text.Json;
using Crate.Core.Runtime;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// The database lock across hosts: a writer on another host that shares the folder holds <c>results.db.lock/</c>
/// (its lease file is written here as that host would); a write here waits for it, and takes the lock over once that
/// holder has been silent past <see cref="StoreLock.StaleAfter"/>.
/// </summary>
public class StoreLockTests
{
    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    [Fact]
    public void A_write_waits_while_another_host_holds_the_database_lock_and_goes_on_when_it_releases()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        var lockFolder = store.DatabasePath + ".lock";
        var top = Directory.GetFiles(lockFolder, "*.lease").Max()!;
        long next = long.Parse(Path.GetFileNameWithoutExtension(top)) + 1;
        var other = OtherHost(DateTime.UtcNow);
        var path = Path.Combine(lockFolder, $"{next:D12}.lease");
        File.WriteAllText(path, JsonSerializer.Serialize(other, Json));

        var write = InBackground(() => store.AddEpoch("run", Epoch(1)));
        Assert.False(write.Wait(TimeSpan.FromMilliseconds(700)), "the write did not wait for the other host's lock");
        File.WriteAllText(path, JsonSerializer.Serialize(other with { ReleasedUtc = DateTime.UtcNow }, Json));
        Assert.True(write.Wait(TimeSpan.FromSeconds(20)), "the write did not go on after the other host released");
        Assert.Single(store.Epochs("run"));
    }

    [Fact]
    public void A_lock_of_another_host_silent_past_the_timeout_is_taken_over()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        var lockFolder = store.DatabasePath + ".lock";
        var top = Directory.GetFiles(lockFolder, "*.lease").Max()!;
        long next = long.Parse(Path.GetFileNameWithoutExtension(top)) + 1;
        File.WriteAllText(Path.Combine(lockFolder, $"{next:D12}.lease"),
            JsonSerializer.Serialize(OtherHost(DateTime.UtcNow - StoreLock.StaleAfter - TimeSpan.FromSeconds(5)), Json));
        var write = InBackground(() => store.AddEpoch("run", Epoch(2)));
        Assert.True(write.Wait(TimeSpan.FromSeconds(20)), "the stale lock was not taken over");
        Assert.Equal(LeaseStatus.Free, FileLease.Peek(lockFolder, StoreLock.StaleAfter)!.Status);
    }

    /// <summary>Runs <paramref name="action"/> on a thread of its own; the event is set when it returned (or threw).</summary>
    private static ManualResetEventSlim InBackground(Action action)
    {
        var done = new ManualResetEventSlim();
        new Thread(() => { try { action(); } finally { done.Set(); } }) { IsBackground = true }.Start();
        return done;
    }

    private static LeaseRecord OtherHost(DateTime heartbeat) => new()
    {
        Holder = "results database lock", Host = "node7", Pid = 4242, ProcessStart = "99", Machine = "another-boot/pid:[1]",
        Token = Guid.NewGuid().ToString("N"), AcquiredUtc = heartbeat, HeartbeatUtc = heartbeat,
    };
}
