using Crate.Core.Contract;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// LiteDB's "damaged" mark (header byte 191) after a failed write, e.g. on a full disk: cleared when every
/// document and index reads back, refused as before when the file is really damaged.
/// </summary>
public class DamageMarkTests
{
    private static void Mark(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        stream.Position = 191;
        stream.WriteByte(1);
    }

    [Fact]
    public void An_intact_file_with_the_mark_opens_with_every_run_and_row()
    {
        using var folder = new TempFolder();
        var run = Run("vit", "crate", ModelRole.Crate, 0, RunStatus.Finished);
        using (var store = ResultsStore.Open(folder.Path))
        {
            store.UpsertRun(run);
            store.AddEpoch(run.Id, Epoch(1));
        }
        var path = Path.Combine(folder.Path, ResultsStore.FileName);
        Mark(path);
        using var reopened = ResultsStore.Open(folder.Path);
        Assert.True(reopened.ClearedDamageMark);
        Assert.Equal(run.Id, Assert.Single(reopened.Runs()).Id);
        Assert.Single(reopened.Epochs(run.Id));
    }

    [Fact]
    public void A_really_damaged_file_with_the_mark_is_still_refused_and_left_as_it_was()
    {
        using var folder = new TempFolder();
        using (var store = ResultsStore.Open(folder.Path))
            for (int i = 0; i < 20; i++) store.UpsertRun(Run("vit", "crate", ModelRole.Crate, i, RunStatus.Finished));
        var path = Path.Combine(folder.Path, ResultsStore.FileName);
        var bytes = File.ReadAllBytes(path);
        for (int i = 8192; i < bytes.Length; i++) bytes[i] = 0xFF;       // every page after the header destroyed
        bytes[191] = 1;
        File.WriteAllBytes(path, bytes);
        var e = Assert.Throws<ResultsStoreException>(() => ResultsStore.Open(folder.Path));
        Assert.Contains("damaged", e.Message);
        Assert.Equal(bytes, File.ReadAllBytes(path));
    }
}
