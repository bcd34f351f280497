using Crate.Core.Contract;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// <see cref="ResultsStore.MergeFrom"/> under what a cluster does to shard folders: a shard retried after a kill,
/// a run that moved between shards when the shard count changed, the same folder merged twice, a corrupt shard.
/// </summary>
public class MergeTests
{
    private static readonly WhiteBoxRow Rc = new(0, "Rc", "val", 2, 0.1, 8);

    [Fact]
    public void The_finished_record_wins_in_either_order_and_its_rows_are_the_only_rows()
    {
        using var interrupted = new TempFolder();
        using var finished = new TempFolder();
        var run = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Running);
        using (var store = ResultsStore.Open(interrupted.Path))
        {
            store.UpsertRun(run);
            store.AddEpoch(run.Id, Epoch(1));
            store.AddEpoch(run.Id, Epoch(2) with { Metrics = new Dictionary<string, double> { ["train_loss"] = 9 } });
        }
        var done = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Finished);
        using (var store = ResultsStore.Open(finished.Path))
        {
            store.UpsertRun(done);
            foreach (var epoch in new[] { 1, 2, 3 }) store.AddEpoch(done.Id, Epoch(epoch));
            store.SetWhiteBox(done.Id, [Rc]);
        }

        foreach (var order in new[] { new[] { interrupted.Path, finished.Path }, [finished.Path, interrupted.Path] })
        {
            using var target = new TempFolder();
            using var merged = ResultsStore.Open(target.Path);
            foreach (var shard in order) merged.MergeFrom(shard);

            var record = Assert.Single(merged.Runs());
            Assert.Equal(RunStatus.Finished, record.Status);
            Assert.Equal([1, 2, 3], merged.Epochs(run.Id).Select(e => e.Epoch));
            Assert.All(merged.Epochs(run.Id), e => Assert.Equal(Epoch(e.Epoch).Metrics, e.Metrics));
            Assert.Equal([Rc], merged.WhiteBox(run.Id));
        }
    }

    [Fact]
    public void Merging_the_same_folders_again_changes_nothing()
    {
        using var a = new TempFolder();
        using var b = new TempFolder();
        using (var store = ResultsStore.Open(a.Path))
            foreach (var seed in new[] { 0, 1 })
            {
                var r = Run("vit", "crate", ModelRole.Crate, seed, RunStatus.Finished);
                store.UpsertRun(r);
                store.AddEpoch(r.Id, Epoch(1));
            }
        using (var store = ResultsStore.Open(b.Path))
        {
            var r = Run("vit", "vit", ModelRole.Baseline, 0, RunStatus.Interrupted);
            store.UpsertRun(r);
            store.AddEpoch(r.Id, Epoch(1));
            store.SetWhiteBox(r.Id, [Rc]);
        }
        using var target = new TempFolder();
        using var merged = ResultsStore.Open(target.Path);
        Assert.Equal(2, merged.MergeFrom(a.Path));
        Assert.Equal(1, merged.MergeFrom(b.Path));
        var before = Snapshot(merged);

        Assert.Equal(0, merged.MergeFrom(a.Path));
        Assert.Equal(0, merged.MergeFrom(b.Path));
        Assert.Equal(0, merged.MergeFrom(Path.Combine(a.Path, ResultsStore.FileName)));
        Assert.Equal(before, Snapshot(merged));
        Assert.Equal(3, merged.Runs().Count);
    }

    [Fact]
    public void Between_two_unfinished_records_the_later_attempt_wins_and_ties_keep_ours()
    {
        var older = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Failed);
        var newer = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Interrupted);
        newer.StartedUtc = older.StartedUtc!.Value.AddMinutes(5);
        Assert.True(ResultsStore.Supersedes(newer, older));
        Assert.False(ResultsStore.Supersedes(older, newer));
        Assert.False(ResultsStore.Supersedes(older, older));
        var finished = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Finished);
        Assert.True(ResultsStore.Supersedes(finished, newer));
        Assert.False(ResultsStore.Supersedes(newer, finished));
        Assert.False(ResultsStore.Supersedes(finished, finished));
        Assert.True(ResultsStore.Supersedes(older, null));
    }

    [Fact]
    public void A_corrupt_shard_is_named_and_leaves_the_target_as_it_was()
    {
        using var good = new TempFolder();
        using var bad = new TempFolder();
        var run = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Finished);
        using (var store = ResultsStore.Open(good.Path)) { store.UpsertRun(run); store.AddEpoch(run.Id, Epoch(1)); }
        using (var store = ResultsStore.Open(bad.Path)) store.UpsertRun(Run("vit", "vit", ModelRole.Baseline, 0, RunStatus.Finished));
        var badFile = Path.Combine(bad.Path, ResultsStore.FileName);
        var bytes = File.ReadAllBytes(badFile);
        Array.Clear(bytes, 32, 27);   // the "** This is a LiteDB file **" mark
        File.WriteAllBytes(badFile, bytes);

        using var target = new TempFolder();
        using var merged = ResultsStore.Open(target.Path);
        var error = Assert.Throws<ResultsStoreException>(() => merged.MergeFrom(bad.Path));
        Assert.Contains(badFile, error.Message);
        Assert.Empty(merged.Runs());
        Assert.Equal(1, merged.MergeFrom(good.Path));
        Assert.Equal(run.Id, Assert.Single(merged.Runs()).Id);
        Assert.Equal(bytes, File.ReadAllBytes(badFile));
    }

    /// <summary>Every run, row and white-box row of the store as comparable text.</summary>
    private static List<string> Snapshot(ResultsStore store) =>
        store.Runs().SelectMany(r => new[] { $"{r.Id} {r.Status} {r.Attempts} {string.Join(",", r.Metrics.OrderBy(m => m.Key))}" }
            .Concat(store.Epochs(r.Id).Select(e => $"{r.Id} {e.Phase} {e.Step} {string.Join(",", e.Metrics.OrderBy(m => m.Key))}"))
            .Concat(store.WhiteBox(r.Id).Select(w => $"{r.Id} {w}"))).ToList();
}
