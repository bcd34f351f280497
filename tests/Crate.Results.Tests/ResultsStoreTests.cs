using System.Security.Cryptography;
using System.Text.Json;
using Crate.Core.Contract;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

public class ResultsStoreTests
{
    [Fact]
    public void Run_round_trips_every_field_and_dates_stay_utc()
    {
        using var folder = new TempFolder();
        var outDirectory = Path.Combine(folder.Path, "runs", "nested");
        var run = Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Finished);
        using (var store = ResultsStore.Open(outDirectory))
            store.UpsertRun(run);

        using var reopened = ResultsStore.Open(outDirectory);
        var back = reopened.GetRun(run.Id);
        Assert.NotNull(back);
        Assert.Equal(JsonSerializer.Serialize(run), JsonSerializer.Serialize(back));
        Assert.Equal(DateTimeKind.Utc, back.CreatedUtc.Kind);
        Assert.Equal(DateTimeKind.Utc, back.FinishedUtc!.Value.Kind);
        Assert.Equal(Path.Combine(outDirectory, "results.db"), reopened.DatabasePath);
        Assert.Null(reopened.GetRun("0000000000000000"));
    }

    [Fact]
    public void Empty_and_padded_strings_come_back_as_written()
    {
        using var folder = new TempFolder();
        var run = Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Finished);
        run.MetricInfo = [new MetricInfoRecord { Name = "parameters", Description = " count ", Unit = "" }];
        run.Error = "";
        using (var store = ResultsStore.Open(folder.Path))
            store.UpsertRun(run);
        using var reopened = ResultsStore.Open(folder.Path);
        var back = reopened.GetRun(run.Id)!;
        Assert.Equal("", back.MetricInfo[0].Unit);
        Assert.Equal(" count ", back.MetricInfo[0].Description);
        Assert.Equal("", back.Error);
    }

    [Fact]
    public void Epochs_upsert_by_run_and_epoch_so_a_resume_rewrites_them()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        for (var epoch = 1; epoch <= 4; epoch++)
            store.AddEpoch("aaaa", Epoch(epoch));
        store.AddEpoch("bbbb", Epoch(1));

        // Resume from the checkpoint of epoch 2: rows after it are dropped, then rewritten.
        Assert.Equal(2, store.DeleteEpochsAfter("aaaa", 2));
        store.AddEpoch("aaaa", new EpochRow(3, 301, new Dictionary<string, double> { ["train_loss"] = 0.25 }));

        var rows = store.Epochs("aaaa");
        Assert.Equal([1, 2, 3], rows.Select(r => r.Epoch));
        Assert.Equal(301, rows[2].Step);
        Assert.Equal(0.25, rows[2].Metrics["train_loss"]);
        Assert.Equal(Epoch(2).Metrics["val_acc"], rows[1].Metrics["val_acc"]);
        Assert.Single(store.Epochs("bbbb"));
        Assert.Empty(store.Epochs("cccc"));
    }

    [Fact]
    public void White_box_rows_upsert_by_run_split_measure_and_layer()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        store.SetWhiteBox("aaaa", [new WhiteBoxRow(0, "Rc", "val", 5.0, 0.1, 64), new WhiteBoxRow(1, "Rc", "val", 4.0, 0.1, 64),
                                   new WhiteBoxRow(0, "nonzero", "val", 0.5, 0.01, 64)]);
        store.SetWhiteBox("aaaa", [new WhiteBoxRow(1, "Rc", "val", 3.5, 0.2, 128), new WhiteBoxRow(1, "Rc", "train", 3.0, 0.2, 128)]);

        var rows = store.WhiteBox("aaaa");
        Assert.Equal(4, rows.Count);
        Assert.Equal(new WhiteBoxRow(1, "Rc", "val", 3.5, 0.2, 128), rows.Single(r => r is { Split: "val", Measure: "Rc", Layer: 1 }));
        Assert.Equal(["train", "val", "val", "val"], rows.Select(r => r.Split));
    }

    [Fact]
    public void Runs_filter_by_task_in_a_stable_order_and_delete_removes_everything_of_a_run()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        var runs = new[]
        {
            Run("vit", "vit", ModelRole.Baseline, 2, RunStatus.Finished), Run("mae", "crate-mae", ModelRole.Crate, 1, RunStatus.Running),
            Run("vit", "crate", ModelRole.Crate, 2, RunStatus.Failed), Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Finished),
        };
        foreach (var run in runs)
            store.UpsertRun(run);
        store.AddEpoch(runs[3].Id, Epoch(1));
        store.SetWhiteBox(runs[3].Id, [new WhiteBoxRow(0, "Rc", "val", 1, 0, 1)]);

        Assert.Equal(["mae/crate-mae/1", "vit/crate/1", "vit/crate/2", "vit/vit/2"], store.Runs().Select(r => $"{r.Task}/{r.Model}/{r.Seed}"));
        Assert.Equal(["crate/1", "crate/2", "vit/2"], store.Runs("vit").Select(r => $"{r.Model}/{r.Seed}"));

        Assert.True(store.DeleteRun(runs[3].Id));
        Assert.False(store.DeleteRun(runs[3].Id));
        Assert.Null(store.GetRun(runs[3].Id));
        Assert.Empty(store.Epochs(runs[3].Id));
        Assert.Empty(store.WhiteBox(runs[3].Id));
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "text", "their notes\n" },
        { "random pages", "random" },
        { "damaged LiteDB", "damaged" },
        { "half a page", "half" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void A_corrupt_or_foreign_file_is_refused_and_left_untouched(string kind, string content)
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "results.db");
        switch (content)
        {
            case "random":
                File.WriteAllBytes(path, RandomBytes(3 * 8192, seed: 1));
                break;
            case "half":
                File.WriteAllBytes(path, RandomBytes(4096, seed: 2));
                break;
            case "damaged":
                // A real database whose pages after the header are overwritten with noise.
                using (var store = ResultsStore.Open(folder.Path))
                    for (var i = 0; i < 20; i++)
                        store.UpsertRun(Run("vit", "crate", ModelRole.Crate, i, RunStatus.Finished));
                var bytes = File.ReadAllBytes(path);
                RandomBytes(bytes.Length - 8192, seed: 3).CopyTo(bytes, 8192);
                File.WriteAllBytes(path, bytes);
                break;
            default:
                File.WriteAllText(path, content);
                break;
        }
        var before = SHA256.HashData(File.ReadAllBytes(path));
        var filesBefore = Directory.GetFiles(folder.Path).Order().ToArray();

        var error = Assert.Throws<ResultsStoreException>(() => ResultsStore.Open(folder.Path));

        Assert.StartsWith($"results database {path} is corrupt or not a LiteDB file: ", error.Message);
        Assert.EndsWith(". It was not modified; move it aside to start a new one.", error.Message);
        Assert.Equal(before, SHA256.HashData(File.ReadAllBytes(path)));
        Assert.Equal(filesBefore, Directory.GetFiles(folder.Path).Order().ToArray());
        Assert.False(string.IsNullOrWhiteSpace(kind));
    }

    [Fact]
    public void An_empty_file_is_a_new_database()
    {
        using var folder = new TempFolder();
        File.WriteAllBytes(Path.Combine(folder.Path, "results.db"), []);
        using var store = ResultsStore.Open(folder.Path);
        Assert.Empty(store.Runs());
    }

    [Fact]
    public void Merge_takes_missing_runs_and_finished_over_unfinished_and_leaves_the_shard_untouched()
    {
        using var main = new TempFolder();
        using var shard = new TempFolder();
        var finishedHere = Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Finished);
        var runningHere = Run("vit", "crate", ModelRole.Crate, 2, RunStatus.Running);
        var onlyThere = Run("vit", "vit", ModelRole.Baseline, 1, RunStatus.Finished);
        using (var store = ResultsStore.Open(shard.Path))
        {
            var stale = Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Failed);
            store.UpsertRun(stale);
            store.AddEpoch(stale.Id, Epoch(9));
            store.UpsertRun(Run("vit", "crate", ModelRole.Crate, 2, RunStatus.Finished));
            store.AddEpoch(runningHere.Id, Epoch(1));
            store.AddEpoch(runningHere.Id, Epoch(2));
            store.UpsertRun(onlyThere);
            store.SetWhiteBox(onlyThere.Id, [new WhiteBoxRow(0, "Rc", "val", 2, 0.1, 8)]);
        }
        var shardPath = Path.Combine(shard.Path, "results.db");
        var shardBefore = SHA256.HashData(File.ReadAllBytes(shardPath));

        using var target = ResultsStore.Open(main.Path);
        target.UpsertRun(finishedHere);
        target.AddEpoch(finishedHere.Id, Epoch(1));
        target.UpsertRun(runningHere);
        target.AddEpoch(runningHere.Id, Epoch(1));
        target.AddEpoch(runningHere.Id, Epoch(5));

        Assert.Equal(2, target.MergeFrom(shard.Path));

        Assert.Equal(RunStatus.Finished, target.GetRun(finishedHere.Id)!.Status);
        Assert.Equal([1], target.Epochs(finishedHere.Id).Select(e => e.Epoch));
        Assert.Equal(RunStatus.Finished, target.GetRun(runningHere.Id)!.Status);
        Assert.Equal([1, 2], target.Epochs(runningHere.Id).Select(e => e.Epoch));
        Assert.NotNull(target.GetRun(onlyThere.Id));
        Assert.Single(target.WhiteBox(onlyThere.Id));
        Assert.Equal(shardBefore, SHA256.HashData(File.ReadAllBytes(shardPath)));

        Assert.Equal(0, target.MergeFrom(shardPath));
        Assert.Throws<ResultsStoreException>(() => target.MergeFrom(target.DatabasePath));
        Assert.Throws<ResultsStoreException>(() => target.MergeFrom(Path.Combine(main.Path, "missing.db")));
    }

    [Fact]
    public void Two_stores_on_two_threads_lose_no_row()
    {
        using var folder = new TempFolder();
        using var first = ResultsStore.Open(folder.Path);
        using var second = ResultsStore.Open(folder.Path);
        var writers = new[] { (first, "aaaa"), (second, "bbbb") }.Select(w => new Thread(() =>
        {
            for (var epoch = 0; epoch < 40; epoch++)
            {
                w.Item1.AddEpoch(w.Item2, Epoch(epoch));
                w.Item1.UpsertRun(Run("vit", w.Item2, ModelRole.Crate, epoch, RunStatus.Running));
            }
        })).ToArray();
        foreach (var writer in writers)
            writer.Start();
        foreach (var writer in writers)
            writer.Join();

        using var reader = ResultsStore.Open(folder.Path);
        Assert.Equal(40, reader.Epochs("aaaa").Count);
        Assert.Equal(40, reader.Epochs("bbbb").Count);
        Assert.Equal(80, reader.Runs().Count);
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
