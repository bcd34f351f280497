using System.Runtime.InteropServices;
using System.Security.Cryptography;
using Crate.Core.Data.Images;
using Crate.Core.Training;
using Crate.Plugins.Vit;
using Crate.Tests.Data;
using static Crate.Tests.Plugins.Vit.VitTestSupport;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Vit;

/// <summary>
/// Pins the vit task's training batches: the fixture holds SHA-256 digests of the images and labels of
/// chosen micro-batches, written by the plugin's former private LoaderBatchSource (the commit that added
/// this test), so Core's <see cref="ImageBatchSource"/> keeps training bit-identical (same images, same
/// order, same seed), prefetched or not.
/// </summary>
public class VitBatchPinTests
{
    private static readonly string FixturePath = Path.Combine(DataTestFiles.RepoRoot(), "tests", "Crate.Tests", "Data", "Fixtures", "vit-train-batches.txt");

    private static readonly (string Name, (string, string)[] Sets)[] Configs =
    [
        ("smoke", []),
        ("smoke-rgb32", [("model.image_size", "32"), ("model.channels", "3")]),
        ("smoke-nocrop", [("data.random_resized_crop", "false")]),
    ];

    private static readonly DataPosition[] Positions = [new(0, 0), new(0, 1), new(0, 7), new(1, 0), new(1, 5), new(3, 2)];

    private static List<string> Digests(bool prefetch)
    {
        var lines = new List<string>();
        foreach (var (name, sets) in Configs)
        {
            var config = Config("smoke", "crate", sets);
            var data = LoadData(config);
            var loader = new ImageBatchLoader(data.Train, data.TrainPipeline,
                new ImageLoaderOptions { BatchSize = 64, Shuffle = true, DropLast = true, Seed = 1234 });
            using var source = new ImageBatchSource(loader, prefetch);
            foreach (var p in Positions)
            {
                using var scope = NewDisposeScope();
                var b = source.Get(p, CPU);
                float[] images = b.Images.data<float>().ToArray();
                long[] labels = b.Labels.data<long>().ToArray();
                string digest = Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(images.AsSpan())));
                string labelDigest = Convert.ToHexString(SHA256.HashData(MemoryMarshal.AsBytes(labels.AsSpan())));
                lines.Add($"{name} {p.Epoch} {p.Index} {string.Join('x', b.Images.shape)} {digest} {labelDigest}");
            }
        }
        return lines;
    }

    [Fact]
    public void Training_batches_match_the_pinned_digests()
    {
        var expected = File.ReadAllLines(FixturePath);
        Assert.Equal(Configs.Length * Positions.Length, expected.Length);
        Assert.Equal(expected, Digests(prefetch: false));
        Assert.Equal(expected, Digests(prefetch: true));
    }

    [Fact]
    public void The_vit_training_source_allocates_nothing_per_batch_on_its_loader_thread()
    {
        var config = Config("smoke", "crate");
        var data = LoadData(config);   // a 512-image subset, crop, flip
        var loader = new ImageBatchLoader(data.Train, data.TrainPipeline, new ImageLoaderOptions { BatchSize = 64, DropLast = true, Seed = 5 });
        var bytes = new long[64];
        int calls = 0;
        using var source = new ImageBatchSource(loader, prefetch: true, _ =>
        {
            int k = Interlocked.Increment(ref calls) - 1;
            if (k < bytes.Length) bytes[k] = GC.GetAllocatedBytesForCurrentThread();
        });
        int warm = Volatile.Read(ref calls);                         // the constructor filled the ring: buffers and scratch exist
        for (int i = 0; i < 24; i++)                                 // 3 epochs of 8 batches
        {
            using var scope = NewDisposeScope();
            source.Get(new DataPosition(i / 8, i % 8), CPU);
        }
        int recorded = Math.Min(Volatile.Read(ref calls), bytes.Length);
        Assert.True(recorded >= 24);
        Assert.All(Enumerable.Range(warm, recorded - warm), k => Assert.Equal(0L, bytes[k] - bytes[k - 1]));
    }
}
