using Crate.Core.Training;

namespace Crate.Tests.Training;

/// <summary>Atomic checkpoint folders, the latest pointer and pruning.</summary>
public class CheckpointStoreTests
{
    [Fact]
    public void KeepsTheNewestAndIgnoresIncompleteFolders()
    {
        using var ctx = new LocalRunContext();
        var store = new CheckpointStore(ctx.CheckpointDirectory, keep: 2);
        foreach (long step in new long[] { 10, 20, 30 })
            store.Write(step, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}"));
        Assert.Equal(["step-0000000020", "step-0000000030"],
            Directory.GetDirectories(ctx.CheckpointDirectory, "step-*").Select(Path.GetFileName).Order());
        Assert.EndsWith("step-0000000030", CheckpointStore.FindLatest(ctx.CheckpointDirectory));

        // A checkpoint that crashed before its state.json (what a temp folder could hold) is never chosen,
        // and a stale pointer falls back to the newest complete folder.
        Directory.CreateDirectory(Path.Combine(ctx.CheckpointDirectory, "step-0000000040"));
        File.WriteAllText(Path.Combine(ctx.CheckpointDirectory, "latest"), "step-0000000040");
        Assert.EndsWith("step-0000000030", CheckpointStore.FindLatest(ctx.CheckpointDirectory));
        Assert.EndsWith("step-0000000030", CheckpointStore.Resolve(ctx.CheckpointDirectory));
    }

    [Fact]
    public void AFailedWriteLeavesThePreviousCheckpoint()
    {
        using var ctx = new LocalRunContext();
        var store = new CheckpointStore(ctx.CheckpointDirectory, keep: 2);
        store.Write(1, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}"));
        Assert.Throws<IOException>(() => store.Write(2, dir => throw new IOException("disk full")));
        Assert.EndsWith("step-0000000001", CheckpointStore.FindLatest(ctx.CheckpointDirectory));
        Assert.Empty(Directory.GetDirectories(ctx.CheckpointDirectory, ".tmp-*"));
    }

    [Fact]
    public void ResolvingANonCheckpointNamesThePath()
    {
        using var ctx = new LocalRunContext();
        var e = Assert.Throws<TrainerConfigException>(() => CheckpointStore.Resolve(ctx.RunDirectory));
        Assert.Contains(ctx.RunDirectory, e.Message);
        Assert.Null(CheckpointStore.FindLatest(Path.Combine(ctx.RunDirectory, "missing")));
    }

    [Fact]
    public void AVanishedCheckpointResolvesToTheNewestCompleteOneBesideIt()
    {
        using var ctx = new LocalRunContext();
        var store = new CheckpointStore(ctx.CheckpointDirectory, keep: 3);
        foreach (long step in new long[] { 10, 20 })
            store.Write(step, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}"));
        var chosen = Path.Combine(ctx.CheckpointDirectory, "step-0000000010");
        Directory.Delete(chosen, recursive: true);      // rotated away after it was chosen
        Assert.EndsWith("step-0000000020", CheckpointStore.Resolve(chosen));
    }

    [Fact]
    public void RotationAndAKilledWriteLeaveOnlyWholeCheckpointsAndTheStoreSweepsTheRest()
    {
        using var ctx = new LocalRunContext();
        var store = new CheckpointStore(ctx.CheckpointDirectory, keep: 1);
        foreach (long step in new long[] { 1, 2, 3 })
            store.Write(step, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}"));
        Assert.Equal(["latest", "step-0000000003"], Directory.GetFileSystemEntries(ctx.CheckpointDirectory).Select(Path.GetFileName).Order());
        // What a process killed while writing (.tmp-) or while deleting a rotated checkpoint (.old-) leaves behind.
        Directory.CreateDirectory(Path.Combine(ctx.CheckpointDirectory, $".tmp-{Guid.NewGuid():N}"));
        var old = Directory.CreateDirectory(Path.Combine(ctx.CheckpointDirectory, $".old-step-0000000002-{Guid.NewGuid():N}"));
        File.WriteAllText(Path.Combine(old.FullName, "module-0.bin"), "half deleted");
        _ = new CheckpointStore(ctx.CheckpointDirectory, keep: 1);
        Assert.Equal(["latest", "step-0000000003"], Directory.GetFileSystemEntries(ctx.CheckpointDirectory).Select(Path.GetFileName).Order());
    }

    [Fact]
    public void AFenceThatRefusesStopsTheWriteAndKeepsThePreviousCheckpoint()
    {
        using var ctx = new LocalRunContext();
        var store = new CheckpointStore(Path.Combine(ctx.CheckpointDirectory, "pretrain"), keep: 1);
        store.Write(1, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}"));
        using (CheckpointFence.Guard(ctx.CheckpointDirectory, () => "another attempt took the run over"))
        {
            var e = Assert.Throws<CheckpointFenceException>(() =>
                store.Write(2, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}")));
            Assert.Contains("another attempt took the run over", e.Message);
        }
        Assert.EndsWith("step-0000000001", CheckpointStore.FindLatest(store.Directory));
        Assert.Empty(Directory.GetDirectories(store.Directory, ".tmp-*"));
        store.Write(2, dir => File.WriteAllText(Path.Combine(dir, CheckpointStore.StateFile), "{}"));   // the guard is gone
        Assert.EndsWith("step-0000000002", CheckpointStore.FindLatest(store.Directory));
    }
}
