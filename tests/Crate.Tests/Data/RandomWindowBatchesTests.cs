using Crate.Core.Data;
using Crate.Core.Data.Text;
using Crate.Core.Training;
using static TorchSharp.torch;

namespace Crate.Tests.Data;

public class RandomWindowBatchesTests
{
    private const int Batch = 4, Context = 8, Tokens = 4000;

    /// <summary>
    /// First input id of each row (= the window's offset, the file holding ids 0..3999) for master seeds 0, 1, 7
    /// at three positions. Computed by tools/fixtures/random_windows.py from the seed arithmetic alone, and equal
    /// to what the gpt2 plugin's former private LmBatches drew (compared position by position, 3 seeds x 3 epochs
    /// x 40 micro-batches, before it was replaced): the gpt2 task trains on the same windows in the same order.
    /// </summary>
    public static TheoryData<int, int, long, long[]> Pinned => new()
    {
        { 0, 0, 0, [3210, 1875, 2694, 2755] },
        { 0, 0, 1, [2210, 3642, 1076, 2090] },
        { 0, 2, 5, [3376, 2908, 2384, 3307] },
        { 1, 0, 0, [2465, 1701, 3453, 3640] },
        { 1, 0, 1, [408, 684, 1920, 2059] },
        { 1, 2, 5, [3100, 3284, 1436, 452] },
        { 7, 0, 0, [3892, 3049, 2576, 1356] },
        { 7, 0, 1, [2225, 1974, 3165, 593] },
        { 7, 2, 5, [2223, 3221, 324, 2042] },
    };

    [Theory]
    [MemberData(nameof(Pinned))]
    public void Windows_at_a_position_are_the_pinned_ones(int master, int epoch, long index, long[] offsets)
    {
        using var dir = new TempDir();
        using var file = CountingFile(dir);
        var source = new RandomWindowBatches(file, Batch, Context, TrainingSeeds.From(master).DataOrder);

        var windows = source.Windows(new DataPosition(epoch, index));

        for (int row = 0; row < Batch; row++)
        {
            long start = offsets[row];
            Assert.Equal(Enumerable.Range(0, Context).Select(t => start + t), windows.X.Skip(row * Context).Take(Context));        // ids[i : i+T]
            Assert.Equal(Enumerable.Range(1, Context).Select(t => start + t), windows.Y.Skip(row * Context).Take(Context));        // ids[i+1 : i+T+1]
        }
    }

    [Fact]
    public void A_position_gives_the_same_tensors_every_time_and_positions_differ()
    {
        using var dir = new TempDir();
        using var file = CountingFile(dir);
        var source = new RandomWindowBatches(file, Batch, Context, seed: 123);
        using var scope = NewDisposeScope();

        var first = source.Get(new DataPosition(1, 3), CPU);
        var again = source.Get(new DataPosition(1, 3), CPU);
        var next = source.Get(new DataPosition(1, 4), CPU);

        Assert.Equal(new long[] { Batch, Context }, first.X.shape);
        Assert.Equal(ScalarType.Int64, first.Y.dtype);
        Assert.True(Same(first.X, again.X) && Same(first.Y, again.Y));
        Assert.False(Same(first.X, next.X));
    }

    [Fact]
    public void An_epoch_is_as_many_windows_as_the_file_has_tokens()
    {
        using var dir = new TempDir();
        using var file = CountingFile(dir);

        Assert.Equal((Tokens - 1) / (Batch * Context), new RandomWindowBatches(file, Batch, Context, 0).BatchesPerEpoch);   // 124
        Assert.Equal(1, new RandomWindowBatches(file, 100, 100, 0).BatchesPerEpoch);                                          // fewer tokens than one batch: 1
    }

    [Fact]
    public void A_file_shorter_than_a_context_is_rejected_naming_it()
    {
        using var dir = new TempDir();
        string path = dir.File("short.bin");
        TokenFile.Write(path, [1, 2, 3, 4, 5, 6, 7, 8], 50257);
        using var file = TokenFile.Open(path, 50257);

        var e = Assert.Throws<DatasetException>(() => new RandomWindowBatches(file, 2, 8, 0));

        Assert.Equal(DataErrorKind.ContextTooLong, e.Kind);
        Assert.Equal(path, e.FilePath);
    }

    private static TokenFile CountingFile(TempDir dir)
    {
        string path = dir.File("train.bin");
        TokenFile.Write(path, Enumerable.Range(0, Tokens).ToArray(), 50257);
        return TokenFile.Open(path, 50257);
    }

    /// <summary>Same shape and every element equal.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
