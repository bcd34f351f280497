using System.Diagnostics;
using System.Text.Json;
using Crate.Core.Runtime;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// <see cref="FileLease"/>: one holder at a time across processes, a live holder is busy, a gone or silent one is taken
/// over, a holder that was taken over finds out, releases and heartbeats are written. Leases of "another host" are
/// lease files written here as that host would write them.
/// </summary>
public class FileLeaseTests
{
    private static readonly LeaseOptions Options = new("test", TimeSpan.FromMinutes(5));

    [Fact]
    public void A_live_holder_is_busy_and_a_released_lease_is_taken_with_the_next_number()
    {
        using var folder = new TempFolder();
        var first = FileLease.TryAcquire(folder.Path, Options, out var busy, out var tookOver);
        Assert.NotNull(first);
        Assert.Null(busy);
        Assert.Null(tookOver);
        Assert.Equal(1, first.Generation);

        Assert.Null(FileLease.TryAcquire(folder.Path, Options, out busy, out _));
        Assert.Equal(LeaseStatus.Alive, busy!.Status);
        Assert.Equal(Environment.ProcessId, busy.Record!.Pid);
        Assert.Contains($"pid {Environment.ProcessId}", busy.Describe());

        first.Release();
        Assert.Equal(LeaseStatus.Free, FileLease.Peek(folder.Path, Options.StaleAfter)!.Status);
        using var second = FileLease.TryAcquire(folder.Path, Options, out busy, out tookOver);
        Assert.NotNull(second);
        Assert.Null(tookOver);                          // a released lease is no takeover
        Assert.Equal(2, second.Generation);
        Assert.Equal(["000000000002.lease"], Directory.GetFiles(folder.Path).Select(Path.GetFileName));   // older files are removed
    }

    [Fact]
    public void Another_hosts_lease_is_busy_while_it_beats_and_taken_over_once_silent_past_the_timeout()
    {
        using var folder = new TempFolder();
        Write(folder.Path, 1, OtherHost(heartbeat: DateTime.UtcNow.AddSeconds(-30)));
        Assert.Null(FileLease.TryAcquire(folder.Path, Options, out var busy, out _));
        Assert.Contains("host node7, pid 4242", busy!.Describe());

        Write(folder.Path, 1, OtherHost(heartbeat: DateTime.UtcNow.AddMinutes(-6)));
        using var lease = FileLease.TryAcquire(folder.Path, Options, out busy, out var tookOver);
        Assert.NotNull(lease);
        Assert.Equal(2, lease.Generation);
        Assert.Equal(LeaseStatus.Stale, tookOver!.Status);
        Assert.Contains("no heartbeat for 360 s", tookOver.Reason);
        Assert.Equal(4242, tookOver.Record!.Pid);
    }

    [Fact]
    public void A_lease_of_a_process_of_this_machine_that_is_gone_is_taken_over_at_once()
    {
        using var folder = new TempFolder();
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        var me = ProcessIdentity.Current;
        Write(folder.Path, 7, OtherHost(DateTime.UtcNow) with { Host = me.Host, Machine = me.Machine, Pid = child.Id, ProcessStart = "1" });
        using var lease = FileLease.TryAcquire(folder.Path, Options, out _, out var tookOver);
        Assert.NotNull(lease);
        Assert.Equal(8, lease.Generation);
        Assert.Equal($"process {child.Id} is gone", tookOver!.Reason);
    }

    [Fact]
    public void A_holder_that_was_taken_over_finds_out_at_its_next_heartbeat_and_verify()
    {
        using var folder = new TempFolder();
        using var lease = FileLease.TryAcquire(folder.Path, new LeaseOptions("test", TimeSpan.FromSeconds(1)), out _, out _)!;
        Assert.Null(lease.Verify());
        // Another host judged it stale (this process stalled) and created the next lease file.
        Write(folder.Path, lease.Generation + 1, OtherHost(DateTime.UtcNow));
        Assert.True(lease.LostToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(10)), "the heartbeat did not notice");
        Assert.Contains("another attempt took it over: host node7, pid 4242", lease.Verify());
        lease.Release();                                   // writes nothing: the file is no longer ours
        Assert.Equal(LeaseStatus.Alive, FileLease.Peek(folder.Path, TimeSpan.FromMinutes(5))!.Status);
    }

    [Fact]
    public void The_heartbeat_renews_the_file_and_release_marks_it()
    {
        using var folder = new TempFolder();
        var lease = FileLease.TryAcquire(folder.Path, new LeaseOptions("test", TimeSpan.FromSeconds(1)), out _, out _)!;
        var acquired = Read(lease.FilePath).HeartbeatUtc;
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (Read(lease.FilePath).HeartbeatUtc == acquired && DateTime.UtcNow < deadline) Thread.Sleep(50);
        Assert.True(Read(lease.FilePath).HeartbeatUtc > acquired, "no heartbeat written within 10 s (every 0.1 s expected)");
        lease.Release();
        Assert.NotNull(Read(lease.FilePath).ReleasedUtc);
        Assert.Empty(Directory.GetFiles(folder.Path, "*.tmp"));
    }

    [Fact]
    public void A_parent_releases_the_lease_of_its_dead_child_but_not_of_a_live_process()
    {
        using var folder = new TempFolder();
        using var child = Process.Start(new ProcessStartInfo("true") { UseShellExecute = false })!;
        child.WaitForExit();
        var me = ProcessIdentity.Current;
        Write(folder.Path, 1, OtherHost(DateTime.UtcNow) with { Host = me.Host, Machine = me.Machine, Pid = Environment.ProcessId, ProcessStart = me.ProcessStart });
        Assert.False(FileLease.ReleaseIfGone(folder.Path, Environment.ProcessId));
        Write(folder.Path, 1, OtherHost(DateTime.UtcNow) with { Host = me.Host, Machine = me.Machine, Pid = child.Id, ProcessStart = "1" });
        Assert.True(FileLease.ReleaseIfGone(folder.Path, child.Id));
        Assert.Equal(LeaseStatus.Free, FileLease.Peek(folder.Path, Options.StaleAfter)!.Status);
    }

    [Fact]
    public void An_unreadable_lease_file_is_being_written_until_it_is_old()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "000000000003.lease");
        File.WriteAllBytes(path, []);
        Assert.Null(FileLease.TryAcquire(folder.Path, Options, out var busy, out _));
        Assert.Contains("being written", busy!.Describe());
        File.SetLastWriteTimeUtc(path, DateTime.UtcNow.AddMinutes(-10));
        using var lease = FileLease.TryAcquire(folder.Path, Options, out _, out var tookOver);
        Assert.Equal(4, lease!.Generation);
        Assert.Equal("its lease file was left unreadable", tookOver!.Reason);
    }

    [Fact]
    public void Of_processes_that_race_for_one_lease_exactly_one_wins()
    {
        using var folder = new TempFolder();
        var lease = Path.Combine(folder.Path, "lease");
        var start = DateTime.UtcNow.AddSeconds(4).Ticks;
        var children = Enumerable.Range(0, 4).Select(_ => CrashAndConcurrencyTests.StartChild("take-lease", lease, start.ToString(), "10000")).ToList();
        var lines = children.Select(c => { var l = c.StandardOutput.ReadLine(); return l; }).ToList();
        foreach (var c in children) { c.WaitForExit(); c.Dispose(); }
        var winners = lines.Where(l => l?.StartsWith("won ", StringComparison.Ordinal) == true).ToList();
        Assert.True(winners.Count == 1, string.Join(" | ", lines));
        Assert.Equal("won 1", winners[0]);
        Assert.All(lines.Where(l => l != winners[0]), l => Assert.StartsWith("busy ", l));
    }

    private static LeaseRecord OtherHost(DateTime heartbeat) => new()
    {
        Holder = "reproduce elsewhere", Host = "node7", Pid = 4242, ProcessStart = "99", Machine = "another-boot/pid:[1]",
        Token = Guid.NewGuid().ToString("N"), AcquiredUtc = heartbeat.AddMinutes(-1), HeartbeatUtc = heartbeat,
    };

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.CamelCase };

    private static void Write(string folder, long generation, LeaseRecord record) =>
        File.WriteAllText(Path.Combine(folder, $"{generation:D12}.lease"), JsonSerializer.Serialize(record, Json));

    private static LeaseRecord Read(string path) => JsonSerializer.Deserialize<LeaseRecord>(File.ReadAllText(path), Json)!;
}
