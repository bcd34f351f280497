using System.Collections.Concurrent;
using System.Text.Json;
using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using TorchSharp;

namespace Crate.Tests.Data;

public class ImageBatchLoaderTests
{
    /// <summary>n grey 6x6 images; image i has every pixel = i, label = i % 3.</summary>
    private static ImageDataset Numbered(int n)
    {
        var pixels = new byte[n * 36];
        for (int i = 0; i < n; i++) pixels.AsSpan(i * 36, 36).Fill((byte)i);
        return new ImageDataset("numbered", pixels, Enumerable.Range(0, n).Select(i => i % 3).ToArray(), 1, 6, 6, ["a", "b", "c"]);
    }

    private static readonly ImagePipeline Augment = ImagePipeline.ForTraining(4, ImageStats.Unit, 1, new RandomResizedCrop(4, 4, MinScale: 0.3));

    private static List<ImageBatch> ReadAll(ImageBatchLoader loader, int epochs)
    {
        var batches = new List<ImageBatch>();
        while (loader.Position.Epoch < epochs) batches.AddRange(loader.ReadEpoch());
        return batches;
    }

    [Fact]
    public void Each_epoch_is_a_seeded_permutation_that_changes_between_epochs()
    {
        var loader = new ImageBatchLoader(Numbered(50), ImagePipeline.Plain(ImageStats.Unit, 1), new ImageLoaderOptions { BatchSize = 8, Seed = 11 });

        List<ImageBatch> batches = ReadAll(loader, 2);

        Assert.Equal(14, batches.Count);                      // 7 per epoch, the last one of 2 samples
        Assert.Equal(2, batches[6].Count);
        int[] epoch0 = batches.Take(7).SelectMany(b => b.Indices).ToArray();
        int[] epoch1 = batches.Skip(7).SelectMany(b => b.Indices).ToArray();
        Assert.Equal(Enumerable.Range(0, 50), epoch0.Order());
        Assert.Equal(Enumerable.Range(0, 50), epoch1.Order());
        Assert.NotEqual(epoch0, epoch1);
        Assert.NotEqual(Enumerable.Range(0, 50), epoch0);
        Assert.Equal(epoch0, loader.EpochOrder(0));
        // Labels and pixels belong to the indices: pixel value = index / 255 with unit stats.
        ImageBatch first = batches[0];
        for (int k = 0; k < first.Count; k++)
        {
            Assert.Equal(first.Indices[k] % 3, first.Labels[k]);
            Assert.Equal(first.Indices[k] / 255f, first.Pixels[k * 36], 5);
        }
        Assert.Equal(new LoaderPosition(2, 0), loader.Position);
    }

    [Fact]
    public void Same_seed_same_batches_different_seed_different_batches()
    {
        var options = new ImageLoaderOptions { BatchSize = 16, Seed = 3 };
        var a = ReadAll(new ImageBatchLoader(Numbered(40), Augment, options), 2);
        var b = ReadAll(new ImageBatchLoader(Numbered(40), Augment, options), 2);
        var c = ReadAll(new ImageBatchLoader(Numbered(40), Augment, options with { Seed = 4 }), 2);

        Assert.Equal(a.SelectMany(x => x.Pixels), b.SelectMany(x => x.Pixels));
        Assert.Equal(a.SelectMany(x => x.Labels), b.SelectMany(x => x.Labels));
        Assert.NotEqual(a.SelectMany(x => x.Indices), c.SelectMany(x => x.Indices));
    }

    [Fact]
    public void Resuming_from_a_saved_position_continues_exactly()
    {
        var options = new ImageLoaderOptions { BatchSize = 6, Seed = 21, DropLast = true };
        var reference = ReadAll(new ImageBatchLoader(Numbered(33), Augment, options), 3);   // 5 batches per epoch

        // Interrupted run: stop after 7 batches (inside epoch 1), keep the position as a checkpoint would.
        var first = new ImageBatchLoader(Numbered(33), Augment, options);
        var seen = new List<ImageBatch>(first.ReadEpoch());
        foreach (ImageBatch batch in first.ReadEpoch())
        {
            seen.Add(batch);
            if (seen.Count == 7) break;
        }
        string saved = JsonSerializer.Serialize(first.Position);
        Assert.Equal(new LoaderPosition(1, 12), first.Position);

        var resumed = new ImageBatchLoader(Numbered(33), Augment, options) { Position = JsonSerializer.Deserialize<LoaderPosition>(saved) };
        seen.AddRange(ReadAll(resumed, 3));

        Assert.Equal(reference.Count, seen.Count);
        Assert.Equal(reference.SelectMany(b => b.Indices), seen.SelectMany(b => b.Indices));
        Assert.Equal(reference.SelectMany(b => b.Pixels), seen.SelectMany(b => b.Pixels));
        Assert.Equal(new LoaderPosition(2, 0), reference[9].Next);   // the last batch of an epoch points at the next epoch
    }

    [Fact]
    public void Batches_are_prepared_on_another_thread()
    {
        var threads = new ConcurrentBag<int>();
        var dataset = new Recording(Numbered(20), threads);
        var loader = new ImageBatchLoader(dataset, ImagePipeline.Plain(ImageStats.Unit, 1), new ImageLoaderOptions { BatchSize = 5, Prefetch = 2 });

        int batches = loader.ReadEpoch().Count();

        Assert.Equal(4, batches);
        Assert.Equal(20, threads.Count);
        Assert.DoesNotContain(Environment.CurrentManagedThreadId, threads);
    }

    [Fact]
    public void Several_workers_give_the_same_batches_as_one()
    {
        var one = ReadAll(new ImageBatchLoader(Numbered(30), Augment, new ImageLoaderOptions { BatchSize = 7, Seed = 9 }), 1);
        var three = ReadAll(new ImageBatchLoader(Numbered(30), Augment, new ImageLoaderOptions { BatchSize = 7, Seed = 9, Workers = 3 }), 1);

        Assert.Equal(one.SelectMany(b => b.Pixels), three.SelectMany(b => b.Pixels));
    }

    [Fact]
    public void Multiple_views_have_their_own_shapes()
    {
        var global = ImagePipeline.ForTraining(6, ImageStats.Unit, 3, new RandomResizedCrop(6, 6, 0.4, 1));
        var local = ImagePipeline.ForTraining(3, ImageStats.Unit, 3, new RandomResizedCrop(3, 3, 0.05, 0.4));
        var pixels = Enumerable.Range(0, 10 * 36).Select(i => (byte)(i * 37 % 251)).ToArray();   // textured images
        var textured = new ImageDataset("textured", pixels, new int[10], 1, 6, 6, ["only"]);
        var loader = new ImageBatchLoader(textured, [global, local, local], new ImageLoaderOptions { BatchSize = 4 });

        ImageBatch batch = loader.ReadEpoch().First();

        Assert.Equal([new ImageShape(3, 6, 6), new ImageShape(3, 3, 3), new ImageShape(3, 3, 3)], batch.Shapes);
        Assert.Equal(4 * 3 * 36, batch.Views[0].Length);
        Assert.Equal(4 * 3 * 9, batch.Views[2].Length);
        Assert.NotEqual(batch.Views[1], batch.Views[2]);   // each view draws its own crop
    }

    [Fact]
    public void Decode_error_on_the_loader_thread_reaches_the_training_thread()
    {
        using var dir = new TempDir();
        for (int i = 0; i < 6; i++)
        {
            Directory.CreateDirectory(Path.Combine(dir.Path, "c"));
            File.WriteAllBytes(Path.Combine(dir.Path, "c", $"{i}.png"), DataTestFiles.SolidPng(4, 4, 9, 9, 9));
        }
        string bad = Path.Combine(dir.Path, "c", "3.png");
        byte[] png = File.ReadAllBytes(bad);
        png[^20] ^= 0xFF;
        File.WriteAllBytes(bad, png);
        var ds = ImageFolderDataset.Open(dir.Path, 3, ImageFolderCheck.Header);
        var loader = new ImageBatchLoader(ds, ImagePipeline.Plain(ImageStats.ImageNet, 3), new ImageLoaderOptions { BatchSize = 2, Shuffle = false });

        var e = Assert.Throws<DatasetException>(() => loader.ReadEpoch().ToList());

        Assert.Equal(bad, e.FilePath);
        Assert.Equal(new LoaderPosition(0, 2), loader.Position);   // the batch before it was handed out
    }

    [Fact]
    public void Images_of_different_sizes_need_a_fixed_size_pipeline()
    {
        using var dir = new TempDir();
        Directory.CreateDirectory(Path.Combine(dir.Path, "c"));
        File.WriteAllBytes(Path.Combine(dir.Path, "c", "a.png"), DataTestFiles.SolidPng(4, 4, 1, 1, 1));
        File.WriteAllBytes(Path.Combine(dir.Path, "c", "b.png"), DataTestFiles.SolidPng(5, 3, 1, 1, 1));
        var ds = ImageFolderDataset.Open(dir.Path);

        var plain = new ImageBatchLoader(ds, ImagePipeline.Plain(ImageStats.ImageNet, 3), new ImageLoaderOptions { BatchSize = 2 });
        Assert.Throws<InvalidOperationException>(() => plain.ReadEpoch().ToList());

        var eval = new ImageBatchLoader(ds, ImagePipeline.ForEvaluation(4, ImageStats.ImageNet, 3), new ImageLoaderOptions { BatchSize = 2 });
        Assert.Equal(2 * 3 * 16, eval.ReadEpoch().Single().Pixels.Length);
    }

    [Fact]
    public void Batches_become_tensors_on_the_training_thread()
    {
        var loader = new ImageBatchLoader(Numbered(9), ImagePipeline.Plain(ImageStats.Unit, 3), new ImageLoaderOptions { BatchSize = 4, Shuffle = false });
        ImageBatch batch = loader.ReadEpoch().First();

        using (torch.NewDisposeScope())
        {
            var (x, y) = batch.ToTensors();
            Assert.Equal([4L, 3, 6, 6], x.shape);
            Assert.Equal(torch.ScalarType.Float32, x.dtype);
            Assert.Equal([4L], y.shape);
            Assert.Equal(torch.ScalarType.Int64, y.dtype);
            Assert.Equal([0L, 1, 2, 0], y.data<long>().ToArray());
            Assert.Equal(2 / 255f, x[2, 1, 3, 3].item<float>(), 6);
            batch.Pixels[0] = 99f;                       // the tensor holds a copy
            Assert.Equal(0f, x[0, 0, 0, 0].item<float>());
        }
    }

    private sealed class Recording(ImageDataset inner, ConcurrentBag<int> threads) : IImageDataset
    {
        public string Name => inner.Name;
        public int Count => inner.Count;
        public int Channels => inner.Channels;
        public IReadOnlyList<string> ClassNames => inner.ClassNames;
        public int GetLabel(int index) => inner.GetLabel(index);

        public ByteImage GetImage(int index)
        {
            threads.Add(Environment.CurrentManagedThreadId);
            return inner.GetImage(index);
        }
    }
}
