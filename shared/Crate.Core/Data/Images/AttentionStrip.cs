namespace Crate.Core.Data.Images;

/// <summary>
/// An image and maps over it (attention per head, their mean) side by side as one RGB strip: the input scaled to
/// the panel by nearest neighbour, then each map min–max scaled on its own, coloured with viridis and upscaled by
/// pixel repetition, 4-pixel white gaps. The layout of the vit task's attention PNGs (docs/paper.md §3b), in
/// Core so that every vision task writes the same strips.
/// </summary>
public static class AttentionStrip
{
    /// <summary>Smallest panel side in pixels.</summary>
    public const int MinPanel = 112;

    /// <summary>White gap between panels in pixels.</summary>
    public const int Gap = 4;

    /// <summary>The input and the maps side by side on a white background, RGB.</summary>
    public static ByteImage Build(ByteImage input, IReadOnlyList<float[,]> maps)
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
}
