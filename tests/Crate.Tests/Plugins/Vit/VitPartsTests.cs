using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Plugins.Vit;
using Crate.Tests.Data;
using TorchSharp;
using static Crate.Tests.Plugins.Vit.VitTestSupport;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Vit;

/// <summary>The parts of the vit task: PNG output, the batch source over the loader, data config, attention maps.</summary>
public class VitPartsTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    public void PngWriterOutputDecodesToTheSamePixels(int channels)
    {
        using var dir = new TempDir();
        var image = new ByteImage(channels, 5, 7);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (byte)(i * 37 % 256);
        string path = dir.File("x.png");
        PngWriter.Write(path, image);

        Assert.Equal((7, 5), PngSize(path));
        var decoded = ImageDecoder.Decode(path, channels);   // StbImageSharp, which checks the zlib stream
        Assert.Equal(image.Data, decoded.Data);
        Assert.Equal(0xCBF43926u, PngWriter.Crc32("123456789"u8));   // the CRC-32 check value
    }

    [Fact]
    public void BatchSourceIsAPureFunctionOfThePositionWhetherPrefetchedOrNot()
    {
        var data = LoadData(Config("smoke", "crate"));
        ImageBatchLoader Loader() => new(data.Train, data.TrainPipeline,
            new ImageLoaderOptions { BatchSize = 64, Shuffle = true, DropLast = true, Seed = 99 });
        using var sequential = new ImageBatchSource(Loader(), prefetch: true);
        using var jumping = new ImageBatchSource(Loader(), prefetch: true);
        using var synchronous = new ImageBatchSource(Loader(), prefetch: false);
        Assert.Equal(512 / 64, sequential.BatchesPerEpoch);

        var positions = Enumerable.Range(0, 2).SelectMany(e => Enumerable.Range(0, 8).Select(i => new DataPosition(e, i))).ToList();
        var inOrder = positions.ToDictionary(p => p, p => Pixels(sequential.Get(p, CPU)));
        Assert.Equal(0, sequential.Restarts);                    // the loader threads run on across the epoch end
        foreach (var p in new[] { positions[11], positions[3], positions[4], positions[15], positions[0] })
        {
            Assert.Equal(inOrder[p], Pixels(jumping.Get(p, CPU)));
            Assert.Equal(inOrder[p], Pixels(synchronous.Get(p, CPU)));
        }
        Assert.Equal(0, synchronous.Restarts);
        Assert.Equal(4, jumping.Restarts);                       // to 11 (past the warm ring 0..3), back to 3, (4 is next), on to 15, back to 0
        Assert.NotEqual(inOrder[positions[0]], inOrder[positions[8]]);   // epochs differ (order and augmentation)

        static float[] Pixels(ViewBatch b)
        {
            using var scope = NewDisposeScope();
            Assert.Equal([64L, 1, 28, 28], b.Images.shape);
            return [.. b.Images.data<float>(), .. b.Labels.data<long>().ToArray().Select(l => (float)l)];
        }
    }

    [Fact]
    public void DataLimitsSpreadOverTheSplitAndTheTestPipelineNormalises()
    {
        var config = Config("smoke", "crate");
        var data = LoadData(config);
        Assert.Equal((512, 256), (data.Train.Count, data.Test.Count));
        Assert.Equal(10, Enumerable.Range(0, data.Test.Count).Select(data.Test.GetLabel).Distinct().Count());

        var full = IdxDatasets.LoadFashionMnist(FashionMnist, train: false);
        var x = data.TestPipeline.Apply(data.Test.GetImage(1), new Crate.Core.Data.DataRng(0));   // test index 1 = full index 7
        Assert.Equal((full.ImageSpan(7)[100] / 255f - 0.2860f) / 0.3530f, x[100], 5);

        var e = Assert.Throws<Crate.Core.Contract.ConfigException>(() =>
            LoadData(Config("smoke", "crate", ("model.num_classes", "7"))));
        Assert.Contains("model.num_classes", e.Message);
        Assert.Contains("10", e.Message);
    }

    [Fact]
    public void ClsAttentionMapsAreTheLastLayersQueryZeroRowOverThePatchGrid()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        using var model = new CrateClassifier(new CrateConfig(Dim: 24, Depth: 2, Heads: 3, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10));
        model.eval();
        var images = randn(2, 1, 28, 28);
        var maps = AttentionMaps.LastLayerClsAttention(model, images);
        Assert.Equal([2L, 3, 7, 7], maps.shape);

        using var noGrad = no_grad();
        var layers = model.Encoder.Layers;
        var z2 = layers[0].forward(model.Embed(images));
        var full = layers[1].Attention.fn.AttentionMaps(layers[1].Attention.norm.forward(z2));   // [2, 3, 50, 50]
        var expected = full.select(2, 0).narrow(-1, 1, 49).reshape(2, 3, 7, 7);
        Assert.Equal(0, (expected - maps).abs().max().item<float>(), 6);
        Assert.All(maps.sum([2, 3]).data<float>().ToArray(), s => Assert.InRange(s, 0f, 1f));   // the [CLS] key holds the rest
    }

    [Fact]
    public void AttentionStripPlacesTheInputAndEveryMap()
    {
        var input = new ByteImage(1, 28, 28);
        Array.Fill(input.Data, (byte)200);
        var map = new float[7, 7];
        map[0, 0] = 1f;   // top-left patch is the maximum, the rest the minimum
        var strip = AttentionStrip.Build(input, [map, map]);
        Assert.Equal((3, 112, 3 * 112 + 2 * 4), (strip.Channels, strip.Height, strip.Width));
        Assert.Equal(200, strip[0, 50, 50]);                               // input, upscaled 4x
        Assert.Equal(255, strip[0, 50, 113]);                              // white gap
        Assert.Equal(AttentionStrip.Viridis(1f).R, strip[0, 3, 116]);       // map 1, inside the first 16x16 cell
        Assert.Equal(AttentionStrip.Viridis(0f).G, strip[1, 100, 116 + 100]);
        Assert.Equal((68, 1, 84), AttentionStrip.Viridis(0f));
        Assert.Equal((253, 231, 37), AttentionStrip.Viridis(1f));
    }
}
