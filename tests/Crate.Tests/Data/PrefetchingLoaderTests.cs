using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Data;

/// <summary>
/// Core's <see cref="ImageBatchSource"/>: V views per sample, deterministic per (seed, epoch, sample,
/// view), the same batches prefetched or not and with any number of loader threads, no managed
/// allocation per batch on the loader threads, and collections forced there while the training thread
/// runs implicit-Scalar tensor ops.
/// </summary>
public class PrefetchingLoaderTests
{
    /// <summary>n textured RGB 20x20 images, label = i % 4.</summary>
    private static ImageDataset Textured(int n)
    {
        var pixels = new byte[n * 3 * 400];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)((i * 37 + i / 1200 * 11) % 251);
        return new ImageDataset("textured", pixels, Enumerable.Range(0, n).Select(i => i % 4).ToArray(), 3, 20, 20, ["a", "b", "c", "d"]);
    }

    /// <summary>DINO's recipe at small sizes: 2 global views of 12 px and 2 identical local pipelines of 6 px.</summary>
    private static ImageBatchLoader DinoLoader(int workers = 1, int prefetch = 3, int n = 40) =>
        new(Textured(n), DinoViews.Create(2, ImageStats.ImageNet, 3, globalSize: 12, localSize: 6),
            new ImageLoaderOptions { BatchSize = 4, DropLast = true, Seed = 17, Workers = workers, Prefetch = prefetch });

    /// <summary>Every view's pixels, then the labels, of the batch at <paramref name="p"/>.</summary>
    private static float[][] Contents(ImageBatchSource source, DataPosition p)
    {
        using var scope = NewDisposeScope();
        return Contents(source.Get(p, CPU));
    }

    private static float[][] Contents(ViewBatch batch) =>
        [.. batch.Views.Select(v => v.data<float>().ToArray()), batch.Labels.data<long>().ToArray().Select(l => (float)l).ToArray()];

    [Fact]
    public void Every_sample_comes_in_every_view_with_its_own_randomness()
    {
        using var source = new ImageBatchSource(DinoLoader());
        using var scope = NewDisposeScope();
        ViewBatch batch = source.Get(new DataPosition(1, 2), CPU);

        Assert.Equal(4, batch.Views.Count);
        Assert.Equal([4L, 3, 12, 12], batch.Views[0].shape);
        Assert.Equal([4L, 3, 12, 12], batch.Views[1].shape);
        Assert.Equal([4L, 3, 6, 6], batch.Views[3].shape);
        Assert.Same(batch.Views[0], batch.Images);
        float[][] contents = Contents(batch);
        Assert.NotEqual(contents[2], contents[3]);               // same pipeline, view index in the seed
        Assert.NotEqual(contents[0], contents[1]);

        // The loader's own batch at (epoch 1, sample 8): the same indices, labels and every view.
        ImageBatch expected = DinoLoader().PrepareBatch(new LoaderPosition(1, 8));
        for (int v = 0; v < 4; v++) Assert.Equal(expected.Views[v], contents[v]);
        Assert.Equal(expected.Labels.Select(l => (float)l), contents[4]);
    }

    [Fact]
    public void Prefetched_synchronous_and_multi_threaded_sources_give_the_same_batches()
    {
        using var sequential = new ImageBatchSource(DinoLoader());
        using var synchronous = new ImageBatchSource(DinoLoader(), prefetch: false);
        using var threaded = new ImageBatchSource(DinoLoader(workers: 3, prefetch: 2));
        var positions = Enumerable.Range(0, 3).SelectMany(e => Enumerable.Range(0, 10).Select(i => new DataPosition(e, i))).ToList();

        var reference = positions.Select(p => Contents(sequential, p)).ToList();
        Assert.Equal(0, sequential.Restarts);                    // in order across epoch ends: no restart
        for (int k = 0; k < positions.Count; k++) Assert.Equal(reference[k], Contents(threaded, positions[k]));
        Assert.Equal(0, threaded.Restarts);
        foreach (int k in new[] { 17, 3, 4, 6, 29, 0 })        // a resume, an epoch cut short, a skip inside the ring
            Assert.Equal(reference[k], Contents(synchronous, positions[k]));
        foreach (int k in new[] { 17, 3, 4, 6, 29, 0 })
            Assert.Equal(reference[k], Contents(threaded, positions[k]));
        Assert.NotEqual(reference[0], reference[10]);           // epochs differ
    }

    [Fact]
    public void Loader_threads_allocate_nothing_per_batch_once_warm()
    {
        const int Batches = 60;
        var bytes = new long[4 * Batches];
        var threads = new int[4 * Batches];
        int calls = 0;
        void Record(LoaderPosition _)
        {
            int k = Interlocked.Increment(ref calls) - 1;
            if (k >= bytes.Length) return;
            bytes[k] = GC.GetAllocatedBytesForCurrentThread();
            threads[k] = Environment.CurrentManagedThreadId;
        }
        using var source = new ImageBatchSource(DinoLoader(workers: 2, prefetch: 2), prefetch: true, Record);
        int warm = Volatile.Read(ref calls);                    // the constructor filled the ring: buffers and scratch exist
        for (int i = 0; i < Batches; i++)                       // 6 epochs of 10 batches
        {
            using var scope = NewDisposeScope();
            source.Get(new DataPosition(i / 10, i % 10), CPU);
        }

        int recorded = Math.Min(Volatile.Read(ref calls), bytes.Length);
        Assert.True(recorded >= Batches);
        foreach (int thread in threads.Take(recorded).Distinct())
        {
            // Each batch this thread prepared after the constructor returned, against its reading before: not one byte.
            int[] mine = Enumerable.Range(0, recorded).Where(k => threads[k] == thread).ToArray();
            long[] perBatch = mine.Zip(mine.Skip(1), (a, b) => (a, b)).Where(p => p.b >= warm).Select(p => bytes[p.b] - bytes[p.a]).ToArray();
            Assert.True(perBatch.Length > 20, $"thread {thread} prepared {perBatch.Length} batches after the warm-up");
            Assert.All(perBatch, d => Assert.Equal(0L, d));
        }
    }

    [Fact]
    public void Prefetching_survives_collections_forced_on_the_loader_thread_during_scalar_ops()
    {
        const int Batches = 300;
        int collections = 0;
        void Collect(LoaderPosition _)
        {
            GC.Collect();
            GC.WaitForPendingFinalizers();
            Interlocked.Increment(ref collections);
        }
        ImageBatchLoader Loader() => new(Textured(32), ImagePipeline.ForTraining(12, ImageStats.ImageNet, 3, new RandomResizedCrop(12, 12, 0.3)),
            new ImageLoaderOptions { BatchSize = 8, DropLast = true, Seed = 3, Prefetch = 2 });
        using var stressed = new ImageBatchSource(Loader(), prefetch: true, Collect);
        using var plain = new ImageBatchSource(Loader(), prefetch: false);

        for (int i = 0; i < Batches; i++)
        {
            var p = new DataPosition(i / 4, i % 4);
            using var scope = NewDisposeScope();
            Assert.Equal(Work(plain.Get(p, CPU)), Work(stressed.Get(p, CPU)));
        }
        Assert.True(collections >= Batches, $"{collections} forced collections");

        // Implicitly converted Scalars in every op: the ones a collection on another thread could finalize mid-call.
        static double Work(ViewBatch batch)
        {
            Tensor x = batch.Images * 0.5 + 1.0;                  // [8, 3, 12, 12]
            x = x.clamp(min: 0.1) - 0.25;
            x = (x * x).add(x, alpha: 2.0).div(3.0);
            return x.sum().ToDouble() + batch.Labels.sum().ToInt64();
        }
    }

    [Fact]
    public void A_decode_error_on_a_loader_thread_reaches_the_batch_that_needs_it()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "c"));
        for (int i = 0; i < 6; i++) File.WriteAllBytes(Path.Combine(dir.Path, "c", $"{i}.png"), DataTestFiles.SolidPng(4, 4, 9, 9, 9));
        string bad = Path.Combine(dir.Path, "c", "3.png");
        byte[] png = File.ReadAllBytes(bad);
        png[^20] ^= 0xFF;
        File.WriteAllBytes(bad, png);
        var loader = new ImageBatchLoader(ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.Header), ImagePipeline.Plain(ImageStats.ImageNet, 3),
            new ImageLoaderOptions { BatchSize = 2, Shuffle = false, DropLast = true });
        using var source = new ImageBatchSource(loader);
        using var scope = NewDisposeScope();

        Assert.Equal([2L, 3, 4, 4], source.Get(new DataPosition(0, 0), CPU).Images.shape);   // images 0, 1
        var e = Assert.Throws<DatasetException>(() => source.Get(new DataPosition(0, 1), CPU));   // images 2, 3
        Assert.Equal(bad, e.FilePath);
        // The next request starts the threads afresh: images 4, 5 (pixel 9 normalised with ImageNet's red mean and std).
        ViewBatch after = source.Get(new DataPosition(0, 2), CPU);
        Assert.Equal([2L, 3, 4, 4], after.Images.shape);
        Assert.Equal((9 / 255f - 0.485f) / 0.229f, after.Images[1, 0, 3, 3].item<float>(), 5);
        Assert.Equal(1, source.Restarts);
    }
}
