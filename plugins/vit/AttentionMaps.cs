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
    /// <summary>Smallest panel side in pixels.</summary>
    public const int MinPanel = 112;

    private const int Gap = 4;

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
                PngWriter.Write(Path.Combine(runDirectory, relative), Strip(input, panels));
                artifacts.Add(new Artifact($"attention test {index} ({label})", relative,
                    $"[CLS] attention of the last CRATE layer on test image {index} (class {label}): input, heads 1-{maps.shape[0]}, mean over heads; each map min-max scaled"));
            }
        }
        return artifacts;
    }

    /// <summary>The input and the maps side by side on a white background, RGB.</summary>
    public static ByteImage Strip(ByteImage input, IReadOnlyList<float[,]> maps)
    {
        int panel = Math.Max(MinPanel, Math.Max(input.Height, input.Width));
        int width = (1 + maps.Count) * panel + maps.Count * Gap;
        var strip = new ByteImage(3, panel, width);
        Array.Fill(strip.Data, (byte)255);
        int plane = panel * width;
        for (int y = 0; y < panel; y++)
            for (int x = 0; x < panel; x++)
            {
                int sy = y * input.Height / panel, sx = x * input.Width / panel;   // nearest neighbour
                for (int c = 0; c < 3; c++)
                    strip.Data[c * plane + y * width + x] = input[input.Channels == 1 ? 0 : c, sy, sx];
            }
        for (int m = 0; m < maps.Count; m++)
        {
            var map = maps[m];
            int gh = map.GetLength(0), gw = map.GetLength(1);
            float lo = float.MaxValue, hi = float.MinValue;
            foreach (float v in map) { lo = Math.Min(lo, v); hi = Math.Max(hi, v); }
            int left = (1 + m) * (panel + Gap);                                     // after the input and m maps
            for (int y = 0; y < panel; y++)
                for (int x = 0; x < panel; x++)
                {
                    float v = map[y * gh / panel, x * gw / panel];
                    var (r, g, b) = Viridis(hi > lo ? (v - lo) / (hi - lo) : 0f);
                    int at = y * width + left + x;
                    strip.Data[at] = r;
                    strip.Data[plane + at] = g;
                    strip.Data[2 * plane + at] = b;
                }
        }
        return strip;
    }

    /// <summary>matplotlib's viridis at <paramref name="t"/> ∈ [0, 1], interpolated between nine of its samples.</summary>
    public static (byte R, byte G, byte B) Viridis(float t)
    {
        float f = Math.Clamp(t, 0f, 1f) * 8f;
        int i = Math.Min(7, (int)f);
        float w = f - i;
        byte Lerp(int c) => (byte)Math.Round(ViridisAnchors[i * 3 + c] * (1 - w) + ViridisAnchors[(i + 1) * 3 + c] * w);
        return (Lerp(0), Lerp(1), Lerp(2));
    }

    /// <summary>viridis at 0, 1/8, ..., 1 as RGB triples.</summary>
    private static readonly byte[] ViridisAnchors =
    [
        68, 1, 84, 71, 44, 122, 59, 81, 139, 44, 113, 142, 33, 144, 141,
        39, 173, 129, 92, 200, 99, 170, 220, 50, 253, 231, 37,
    ];

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
