using Crate.Core.Training;
using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>
/// Emergent segmentation (docs/paper.md §3b): the [CLS] row of the last layer's MSSA attention,
/// softmax(W_k W_kᵀ/√p) with W = U·LN₁(Z^L), read at query 0 and the patch keys 1..N, reshaped to the
/// (H/P)×(W/P) grid, per head and averaged over the heads. Each image becomes one PNG strip: the input,
/// then one panel per head, then the mean, every map min–max scaled on its own and coloured with viridis,
/// upscaled by pixel repetition so that a 7×7 map is readable.
/// </summary>
public static class AttentionMaps
{
    /// <summary>The [CLS] attention of the last layer, [B, K, g, g], for images [B, C, H, W] (eval mode, no grad).</summary>
    public static Tensor LastLayerClsAttention(CrateClassifier model, Tensor images)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var layers = model.Encoder.Layers;
        var z = model.Embed(images);                                              // Z^1 [B, n, d]
        for (int i = 0; i < layers.Count - 1; i++) z = layers[i].forward(z);      // Z^L [B, n, d]
        var last = layers[^1].Attention;
        var maps = last.fn.AttentionMaps(last.norm.forward(z));                   // [B, K, n, n]
        long b = maps.shape[0], k = maps.shape[1], n = maps.shape[2];
        int grid = (int)Math.Round(Math.Sqrt(n - 1));
        var cls = maps.select(2, 0).narrow(-1, 1, n - 1);                         // [B, K, N]
        return cls.reshape(b, k, grid, grid).MoveToOuterDisposeScope();           // [B, K, g, g]
    }

    /// <summary>
    /// Writes one strip per test image 0..<paramref name="count"/>−1 (evenly spaced over the split) into
    /// <c><paramref name="runDirectory"/>/attention/</c> and returns them as artifacts.
    /// </summary>
    public static IReadOnlyList<Artifact> Save(CrateClassifier model, IImageDataset test, ImagePipeline pipeline, int count,
        Device device, string runDirectory)
    {
        var artifacts = new List<Artifact>();
        if (count <= 0) return artifacts;
        using var evalMode = EvalMode.Of(model);
        {
            var rng = new DataRng(0);   // the test pipeline draws nothing
            foreach (int index in Enumerable.Range(0, Math.Min(count, test.Count)).Select(k => (int)((long)k * test.Count / Math.Min(count, test.Count))))
            {
                using var scope = NewDisposeScope();
                ByteImage input = pipeline.Transform(test.GetImage(index), rng);
                var pixels = new float[input.Data.Length];
                pipeline.Normalize(input, pixels);
                var x = tensor(pixels, [1, input.Channels, input.Height, input.Width]).to(device);   // [1, C, H, W]
                var maps = LastLayerClsAttention(model, x)[0].cpu();                                   // [K, g, g]
                var mean = maps.mean([0]);                                                              // [g, g]
                var panels = new List<float[,]>();
                for (int h = 0; h < maps.shape[0]; h++) panels.Add(ToGrid(maps[h]));
                panels.Add(ToGrid(mean));

                string label = test.ClassNames[test.GetLabel(index)];
                string relative = Path.Combine("attention", $"test-{index:D5}.png");
                PngWriter.Write(Path.Combine(runDirectory, relative), AttentionStrip.Build(input, panels));
                artifacts.Add(new Artifact($"attention test {index} ({label})", relative,
                    $"[CLS] attention of the last CRATE layer on test image {index} (class {label}): input, heads 1-{maps.shape[0]}, mean over heads; each map min-max scaled"));
            }
        }
        return artifacts;
    }

    private static float[,] ToGrid(Tensor map)
    {
        int h = (int)map.shape[0], w = (int)map.shape[1];
        var values = map.contiguous().data<float>().ToArray();   // [g, g] row-major
        var grid = new float[h, w];
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                grid[y, x] = values[y * w + x];
        return grid;
    }
}
