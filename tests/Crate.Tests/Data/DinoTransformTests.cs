using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Tests.Data;

/// <summary>The DINO multi-crop augmentations: colour jitter, grey, blur, solarisation, and the view recipe.</summary>
public class DinoTransformTests
{
    private static ByteImage Rgb(params byte[] pixels) => new(3, 1, pixels.Length / 3, pixels);

    [Fact]
    public void Solarize_inverts_pixels_at_or_above_the_threshold()
    {
        Assert.Equal([0, 127, 127, 55, 0], new Solarize(1.0).Apply(new ByteImage(1, 1, 5, [0, 127, 128, 200, 255]), new DataRng(1)).Data);
        Assert.Equal([0, 127, 128, 200, 255], new Solarize(0.0).Apply(new ByteImage(1, 1, 5, [0, 127, 128, 200, 255]), new DataRng(1)).Data);
        Assert.Equal([245, 9], new Solarize(1.0, Threshold: 10).Apply(new ByteImage(1, 1, 2, [10, 9]), new DataRng(1)).Data);
    }

    [Fact]
    public void Gaussian_blur_spreads_a_point_by_the_normalised_kernel()
    {
        // σ = 0.5, radius ⌈1.5⌉ = 2: weights exp(-2x²) normalised = 0.000264, 0.106451, 0.786571, 0.106451, 0.000264.
        // A 255 point gives 255·g(dy)·g(dx): centre 157.77 → 158, edge neighbours 21.35 → 21, diagonals 2.89 → 3,
        // two steps along an axis 0.053 → 0.
        var point = new ByteImage(1, 5, 5);
        point.Data[12] = 255;
        ByteImage blurred = new GaussianBlur(1.0, 0.5, 0.5).Apply(point, new DataRng(4));
        Assert.Equal(158, blurred[0, 2, 2]);
        Assert.Equal([21, 21, 21, 21], new[] { blurred[0, 1, 2], blurred[0, 3, 2], blurred[0, 2, 1], blurred[0, 2, 3] });
        Assert.Equal([3, 3, 3, 3], new[] { blurred[0, 1, 1], blurred[0, 1, 3], blurred[0, 3, 1], blurred[0, 3, 3] });
        Assert.Equal(0, blurred[0, 0, 2]);

        var flat = new ByteImage(3, 4, 6);
        flat.Data.AsSpan().Fill(90);
        Assert.All(new GaussianBlur(1.0).Apply(flat, new DataRng(9)).Data, v => Assert.Equal(90, v));   // reflect padding keeps constants

        var kept = new ByteImage(1, 5, 5);
        kept.Data[12] = 255;
        Assert.Equal(255, new GaussianBlur(0.0).Apply(kept, new DataRng(4))[0, 2, 2]);
    }

    [Fact]
    public void Brightness_and_contrast_are_pil_blends_truncated_and_clipped()
    {
        var grey = new ByteImage(1, 1, 4, [0, 10, 100, 200]);
        ColorJitter.AdjustBrightness(grey, 1.5f);
        Assert.Equal([0, 15, 150, 255], grey.Data);              // 300 clipped to 255
        var dim = new ByteImage(1, 1, 2, [3, 255]);
        ColorJitter.AdjustBrightness(dim, 0.5f);
        Assert.Equal([1, 127], dim.Data);                        // 1.5 and 127.5 truncate

        var contrast = new ByteImage(1, 1, 4, [0, 50, 100, 150]);   // mean 75
        ColorJitter.AdjustContrast(contrast, 2f);
        Assert.Equal([0, 25, 125, 225], contrast.Data);          // 75 + 2 (p − 75), −75 clipped to 0

        var rgb = Rgb(0, 90, 30, 60, 0, 0);                       // planes R = [0, 90], G = [30, 60], B = [0, 0]
        // Grey L = (19595 R + 38470 G + 7471 B + 32768) >> 16: 18 and 62; mean 40; factor 0: all 40.
        ColorJitter.AdjustContrast(rgb, 0f);
        Assert.All(rgb.Data, v => Assert.Equal(40, v));
    }

    [Fact]
    public void Saturation_blends_with_grey_and_hue_rotates_in_pil_hsv()
    {
        var pixel = Rgb(100, 150, 200);                           // L = (1959500 + 5770500 + 1494200 + 32768) >> 16 = 141
        ColorJitter.AdjustSaturation(pixel, 2f);
        Assert.Equal([59, 159, 255], pixel.Data);                // 141 + 2 (p − 141), 259 clipped
        var red = Rgb(255, 0, 0);
        ColorJitter.AdjustSaturation(red, 0f);
        Assert.Equal([76, 76, 76], red.Data);                    // grey of pure red

        var hue = Rgb(255, 0, 0);                                 // H 0, S 255, V 255
        ColorJitter.AdjustHue(hue, 0.34);                         // H + trunc(86.7) = 86: 86·6/255 = 2.0235, sector 2, f = 0.0235
        Assert.Equal([0, 255, 6], hue.Data);                     // (p, v, t) with t = round(255 f) = 6
        var back = Rgb(0, 255, 0);                                // green: H = int(255 (2/6)) = 85
        ColorJitter.AdjustHue(back, -0.34);                       // 85 + (−86 mod 256 = 170) = 255: sector 6 ≡ 0, f = 0
        Assert.Equal([255, 0, 0], back.Data);

        var grey = new ByteImage(1, 1, 2, [10, 20]);
        ColorJitter.AdjustSaturation(grey, 0f);
        ColorJitter.AdjustHue(grey, 0.3);
        Assert.Equal([10, 20], grey.Data);                       // no colour to change in one channel
    }

    [Fact]
    public void Colour_jitter_draws_its_order_and_factors_from_the_view_rng()
    {
        // Brightness only, strength 0.5: the factor is the fifth and later draws after the coin and the order.
        var replay = new DataRng(21);
        Assert.True(replay.NextDouble() < 1.0);
        Span<int> order = [0, 1, 2, 3];
        replay.Shuffle(order);
        float factor = (float)replay.Uniform(0.5, 1.5);
        var image = new ByteImage(1, 1, 3, [10, 100, 200]);
        new ColorJitter(0.5, 0).Apply(image, new DataRng(21));
        Assert.Equal(new[] { 10, 100, 200 }.Select(p => (byte)Math.Clamp(p * factor, 0f, 255f)), image.Data);

        var a = Rgb(10, 50, 90, 130, 170, 210);
        var b = Rgb(10, 50, 90, 130, 170, 210);
        var jitter = new ColorJitter(0.4, 0.4, 0.2, 0.1);
        Assert.Equal(jitter.Apply(a, new DataRng(5)).Data, jitter.Apply(b, new DataRng(5)).Data);
        var off = Rgb(10, 50, 90, 130, 170, 210);
        Assert.Equal([10, 50, 90, 130, 170, 210], new ColorJitter(0.4, 0.4, 0.2, 0.1, Probability: 0).Apply(off, new DataRng(5)).Data);
    }

    [Fact]
    public void Random_grayscale_replaces_every_channel_by_the_luma()
    {
        Assert.Equal([141, 141, 141], new RandomGrayscale(1.0).Apply(Rgb(100, 150, 200), new DataRng(0)).Data);
        Assert.Equal([100, 150, 200], new RandomGrayscale(0.0).Apply(Rgb(100, 150, 200), new DataRng(0)).Data);
    }

    [Fact]
    public void Dino_views_are_two_globals_and_the_locals_with_their_blur_and_solarisation()
    {
        var views = DinoViews.Create(localCrops: 3, ImageStats.ImageNet, channels: 3, globalSize: 16, localSize: 8);
        Assert.Equal(5, views.Count);
        Assert.Equal(new RandomResizedCrop(16, 16, 0.4, 1.0), views[0].Steps[0]);
        Assert.Equal(new RandomResizedCrop(8, 8, 0.05, 0.4), views[4].Steps[0]);
        Assert.Equal(new GaussianBlur(1.0), views[0].Steps[^1]);
        Assert.Equal(new IImageTransform[] { new GaussianBlur(0.1), new Solarize(0.2) }, views[1].Steps.TakeLast(2));
        Assert.All(views.Skip(2), v => Assert.Equal(new GaussianBlur(0.5), v.Steps[^1]));
        Assert.All(views, v => Assert.Contains(new ColorJitter(0.4, 0.4, 0.2, 0.1, 0.8), v.Steps));
        Assert.All(views, v => Assert.Contains(new RandomGrayscale(0.2), v.Steps));

        var image = new ByteImage(1, 20, 20);
        for (int i = 0; i < image.Data.Length; i++) image.Data[i] = (byte)(i * 29 % 256);
        Assert.Equal(3 * 16 * 16, views[1].Apply(new ByteImage(1, 20, 20, (byte[])image.Data.Clone()), new DataRng(2)).Length);
        Assert.Equal(3 * 8 * 8, views[3].Apply(image, new DataRng(2)).Length);
    }
}
