namespace Crate.Core.Data.Images.Transforms;

/// <summary>
/// torchvision's <c>ColorJitter</c> on PIL images, applied with probability <see cref="Probability"/>
/// (DINO wraps it in <c>RandomApply(p=0.8)</c>): the four adjustments in a random order with factors
/// brightness ~ U[max(0, 1−B), 1+B], contrast ~ U[max(0, 1−C), 1+C], saturation ~ U[max(0, 1−S), 1+S],
/// hue ~ U[−H, H]; a zero strength leaves that adjustment out. Each adjustment is PIL's blend
/// <c>trunc(clamp(d + f·(p − d), 0, 255))</c> with the degenerate image d: black (brightness), the grey
/// mean <c>int(mean(L) + 0.5)</c> (contrast), the grey image L (saturation); hue shifts H of PIL's HSV by
/// <c>trunc(h·255)</c> mod 256. On one-channel images saturation and hue change nothing, leaving
/// brightness/contrast jitter. Works in place; draws: the apply coin, the order, then the four factors.
/// </summary>
public sealed record ColorJitter(double Brightness, double Contrast, double Saturation = 0, double Hue = 0,
    double Probability = 1) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        if (rng.NextDouble() >= Probability) return image;
        Span<int> order = stackalloc int[4];
        for (int i = 0; i < 4; i++) order[i] = i;
        rng.Shuffle(order);
        float brightness = Factor(rng, Brightness), contrast = Factor(rng, Contrast), saturation = Factor(rng, Saturation);
        double hue = Hue > 0 ? rng.Uniform(-Hue, Hue) : 0;
        foreach (int step in order)
        {
            if (step == 0 && Brightness > 0) AdjustBrightness(image, brightness);
            else if (step == 1 && Contrast > 0) AdjustContrast(image, contrast);
            else if (step == 2 && Saturation > 0) AdjustSaturation(image, saturation);
            else if (step == 3 && Hue > 0) AdjustHue(image, hue);
        }
        return image;
    }

    /// <summary>PIL's <c>ImageEnhance.Brightness(image).enhance(factor)</c>, in place: blend with black.</summary>
    public static void AdjustBrightness(ByteImage image, float factor) => Blend(image.Data, 0, factor);

    /// <summary>PIL's <c>ImageEnhance.Contrast(image).enhance(factor)</c>, in place: blend with the rounded grey mean.</summary>
    public static void AdjustContrast(ByteImage image, float factor) => Blend(image.Data, GreyMean(image), factor);

    /// <summary>PIL's <c>ImageEnhance.Color(image).enhance(factor)</c>, in place: blend with the grey image (RGB only).</summary>
    public static void AdjustSaturation(ByteImage image, float factor)
    {
        if (image.Channels == 3) Saturate(image, factor);
    }

    /// <summary>torchvision's <c>adjust_hue</c> on a PIL image, in place: H += trunc(hue·255) mod 256 in PIL's HSV (RGB only).</summary>
    public static void AdjustHue(ByteImage image, double hue)
    {
        if (image.Channels == 3) ShiftHue(image, hue);
    }

    private static float Factor(DataRng rng, double strength) => strength > 0 ? (float)rng.Uniform(Math.Max(0, 1 - strength), 1 + strength) : 1f;

    /// <summary>PIL's <c>Image.blend(degenerate, image, f)</c> with a constant degenerate image.</summary>
    private static void Blend(Span<byte> pixels, int degenerate, float factor)
    {
        for (int i = 0; i < pixels.Length; i++) pixels[i] = BlendPixel(degenerate, pixels[i], factor);
    }

    private static byte BlendPixel(int degenerate, int pixel, float factor) =>
        (byte)Math.Clamp(degenerate + factor * (pixel - degenerate), 0f, 255f);   // the cast truncates, as PIL

    /// <summary>PIL's contrast centre: the mean of the grey image, rounded half up.</summary>
    private static int GreyMean(ByteImage image)
    {
        long sum = 0;
        int plane = image.Height * image.Width;
        for (int i = 0; i < plane; i++) sum += Grey.Luma(image, i);
        return (int)((double)sum / plane + 0.5);
    }

    private static void Saturate(ByteImage image, float factor)
    {
        Span<byte> r = image.Plane(0), g = image.Plane(1), b = image.Plane(2);
        for (int i = 0; i < r.Length; i++)
        {
            int l = Grey.Luma(image, i);
            r[i] = BlendPixel(l, r[i], factor);
            g[i] = BlendPixel(l, g[i], factor);
            b[i] = BlendPixel(l, b[i], factor);
        }
    }

    private static void ShiftHue(ByteImage image, double hue)
    {
        int shift = (int)(hue * 255) & 0xFF;   // numpy's uint8 wrap-around of trunc(h·255)
        Span<byte> r = image.Plane(0), g = image.Plane(1), b = image.Plane(2);
        for (int i = 0; i < r.Length; i++)
        {
            var (h, s, v) = Hsv.FromRgb(r[i], g[i], b[i]);
            (r[i], g[i], b[i]) = Hsv.ToRgb((byte)((h + shift) & 0xFF), s, v);
        }
    }
}

/// <summary>
/// torchvision's <c>RandomGrayscale</c>: with probability <see cref="Probability"/> every channel becomes
/// the grey value <c>(19595 R + 38470 G + 7471 B + 2^15) &gt;&gt; 16</c> (PIL's L); one-channel images stay.
/// </summary>
public sealed record RandomGrayscale(double Probability = 0.1) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        if (rng.NextDouble() >= Probability || image.Channels != 3) return image;
        Span<byte> r = image.Plane(0), g = image.Plane(1), b = image.Plane(2);
        for (int i = 0; i < r.Length; i++) r[i] = g[i] = b[i] = Grey.Luma(image, i);
        return image;
    }
}

/// <summary>
/// DINO's <c>Solarization</c> (PIL's <c>ImageOps.solarize</c>): with probability <see cref="Probability"/>
/// every pixel at or above <see cref="Threshold"/> becomes <c>255 − pixel</c>.
/// </summary>
public sealed record Solarize(double Probability, int Threshold = 128) : IImageTransform
{
    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng) => Apply(image, rng, new ImageScratch());

    /// <inheritdoc/>
    public ByteImage Apply(ByteImage image, DataRng rng, ImageScratch scratch)
    {
        if (rng.NextDouble() >= Probability) return image;
        Span<byte> data = image.Data;
        for (int i = 0; i < data.Length; i++)
            if (data[i] >= Threshold) data[i] = (byte)(255 - data[i]);
        return image;
    }
}

/// <summary>PIL's grey value of pixel <c>i</c> (the L conversion; a one-channel image is its own grey).</summary>
internal static class Grey
{
    public static byte Luma(ByteImage image, int i)
    {
        if (image.Channels == 1) return image.Data[i];
        int plane = image.Height * image.Width;
        return (byte)((image.Data[i] * 19595 + image.Data[plane + i] * 38470 + image.Data[2 * plane + i] * 7471 + 0x8000) >> 16);
    }
}

/// <summary>PIL's byte HSV conversions (libImaging/Convert.c <c>rgb2hsv</c>, <c>hsv2rgb</c>).</summary>
internal static class Hsv
{
    public static (byte H, byte S, byte V) FromRgb(int r, int g, int b)
    {
        int max = Math.Max(r, Math.Max(g, b)), min = Math.Min(r, Math.Min(g, b));
        if (max == min) return (0, 0, (byte)max);
        float cr = max - min, s = cr / max;
        float rc = (max - r) / cr, gc = (max - g) / cr, bc = (max - b) / cr;
        float h = r == max ? bc - gc : g == max ? 2f + rc - bc : 4f + gc - rc;
        h = (h / 6f + 1f) % 1f;
        return (Clip8((int)(h * 255f)), Clip8((int)(s * 255f)), (byte)max);
    }

    public static (byte R, byte G, byte B) ToRgb(byte h, byte s, byte v)
    {
        if (s == 0) return (v, v, v);
        float hh = h * 6f / 255f;
        int i = (int)MathF.Floor(hh);
        float f = hh - i, fs = s / 255f;
        byte p = Clip8((int)MathF.Round(v * (1f - fs))), q = Clip8((int)MathF.Round(v * (1f - fs * f)));
        byte t = Clip8((int)MathF.Round(v * (1f - fs * (1f - f))));
        return (i % 6) switch
        {
            0 => (v, t, p),
            1 => (q, v, p),
            2 => (p, v, t),
            3 => (p, q, v),
            4 => (t, p, v),
            _ => (v, p, q),
        };
    }

    private static byte Clip8(int x) => (byte)Math.Clamp(x, 0, 255);
}
