using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Tests.Data;

public class ImageTransformTests
{
    private static ByteImage Gradient(int channels, int height, int width)
    {
        var img = new ByteImage(channels, height, width);
        for (int c = 0; c < channels; c++)
            for (int y = 0; y < height; y++)
                for (int x = 0; x < width; x++) img.Data[(c * height + y) * width + x] = (byte)((x * 7 + y * 3 + c * 50) % 256);
        return img;
    }

    [Fact]
    public void Random_resized_crop_boxes_respect_scale_and_ratio()
    {
        var crop = new RandomResizedCrop(32);
        var rng = new DataRng(7);
        for (int i = 0; i < 2000; i++)
        {
            var (top, left, h, w) = crop.SampleBox(120, 200, rng);
            Assert.InRange(top, 0, 120 - h);
            Assert.InRange(left, 0, 200 - w);
            double area = (double)h * w / (120 * 200), ratio = (double)w / h;
            Assert.InRange(area, 0.07, 1.0);            // 0.08 less rounding of w and h
            Assert.InRange(ratio, 0.70, 1.43);          // 3/4 .. 4/3 less rounding
        }
    }

    [Fact]
    public void Random_resized_crop_falls_back_to_a_clamped_central_crop()
    {
        var impossible = new RandomResizedCrop(8, 8, MinScale: 2, MaxScale: 3);   // never fits: fallback
        Assert.Equal((0, 43, 10, 13), impossible.SampleBox(10, 100, new DataRng(1)));   // ratio 10 clamped to 4/3
        Assert.Equal((43, 0, 13, 10), impossible.SampleBox(100, 10, new DataRng(1)));   // ratio 0.1 clamped to 3/4
        Assert.Equal((0, 0, 30, 30), impossible.SampleBox(30, 30, new DataRng(1)));
    }

    [Fact]
    public void Random_resized_crop_gives_the_output_size_and_is_deterministic()
    {
        ByteImage src = Gradient(3, 50, 70);
        var crop = new RandomResizedCrop(24, 20, MinScale: 0.2);

        ByteImage a = crop.Apply(src, new DataRng(5));
        ByteImage b = crop.Apply(src, new DataRng(5));
        ByteImage c = crop.Apply(src, new DataRng(6));

        Assert.Equal((3, 24, 20), (a.Channels, a.Height, a.Width));
        Assert.Equal(a.Data, b.Data);
        Assert.NotEqual(a.Data, c.Data);
    }

    [Fact]
    public void Resampling_keeps_constants_and_averages_when_shrinking()
    {
        var flat = new ByteImage(1, 9, 13);
        flat.Data.AsSpan().Fill(77);
        Assert.All(Resample.Resize(flat, 4, 5).Data, v => Assert.Equal(77, v));
        Assert.All(Resample.Resize(flat, 20, 31).Data, v => Assert.Equal(77, v));

        // Alternating 0/255 columns shrunk 4x: the antialiasing filter averages them (no aliasing to 0 or 255).
        var stripes = new ByteImage(1, 8, 32);
        for (int y = 0; y < 8; y++) for (int x = 0; x < 32; x += 2) stripes.Data[y * 32 + x] = 255;
        Assert.All(Resample.Resize(stripes, 2, 8).Data, v => Assert.InRange(v, 110, 145));

        // Same size: an exact copy of the box.
        ByteImage src = Gradient(2, 10, 12);
        ByteImage box = Resample.ResizeBox(src, 2, 3, 5, 6, 5, 6);
        Assert.Equal(src[1, 4, 7], box[1, 2, 4]);
    }

    [Fact]
    public void Flip_mirrors_rows_with_the_given_probability()
    {
        ByteImage src = Gradient(2, 3, 4);
        byte[] before = (byte[])src.Data.Clone();

        ByteImage flipped = new RandomHorizontalFlip(1.0).Apply(new ByteImage(2, 3, 4, (byte[])before.Clone()), new DataRng(1));
        ByteImage kept = new RandomHorizontalFlip(0.0).Apply(new ByteImage(2, 3, 4, (byte[])before.Clone()), new DataRng(1));

        Assert.Equal(src[1, 2, 0], flipped[1, 2, 3]);
        Assert.Equal(src[0, 1, 3], flipped[0, 1, 0]);
        Assert.Equal(before, kept.Data);
        int flips = Enumerable.Range(0, 1000).Count(i =>
            new RandomHorizontalFlip().Apply(new ByteImage(1, 1, 2, [1, 2]), new DataRng((ulong)i)).Data[0] == 2);
        Assert.InRange(flips, 430, 570);
    }

    [Fact]
    public void Evaluation_resize_and_center_crop_follow_torchvision()
    {
        ByteImage src = Gradient(3, 300, 400);
        ByteImage resized = new ResizeShorterSide(256).Apply(src, new DataRng(0));
        Assert.Equal((256, 341), (resized.Height, resized.Width));   // int(256 * 400 / 300)

        ByteImage cropped = new CenterCrop(224).Apply(resized, new DataRng(0));
        Assert.Equal((3, 224, 224), (cropped.Channels, cropped.Height, cropped.Width));
        Assert.Equal(resized[2, 16, 58], cropped[2, 0, 0]);       // offsets round(32/2), round(117/2) = 58 (half to even)

        ByteImage padded = new CenterCrop(6).Apply(Gradient(1, 2, 2), new DataRng(0));
        Assert.Equal(0, padded[0, 0, 0]);                          // zero padding around a small image
        Assert.Equal(Gradient(1, 2, 2)[0, 1, 1], padded[0, 3, 3]);

        ByteImage exact = new ResizeExact(10, 30).Apply(src, new DataRng(0));
        Assert.Equal((10, 30), (exact.Height, exact.Width));
    }

    [Fact]
    public void Random_crop_with_padding_keeps_size_and_content()
    {
        ByteImage src = Gradient(3, 8, 8);
        for (ulong seed = 0; seed < 50; seed++)
        {
            ByteImage crop = new RandomCrop(8, 8, Padding: 2).Apply(src, new DataRng(seed));
            Assert.Equal((3, 8, 8), (crop.Channels, crop.Height, crop.Width));
        }
        ByteImage same = new RandomCrop(8, 8).Apply(src, new DataRng(3));
        Assert.Equal(src.Data, same.Data);
    }

    [Fact]
    public void Channel_conversion_replicates_grey_and_uses_luma_for_colour()
    {
        var grey = new ByteImage(1, 1, 2, [10, 200]);
        Assert.Equal([10, 200, 10, 200, 10, 200], new ToChannels(3).Apply(grey, new DataRng(0)).Data);

        var red = new ByteImage(3, 1, 1, [255, 0, 0]);
        Assert.Equal([76], new ToChannels(1).Apply(red, new DataRng(0)).Data);   // PIL: 255 * 0.299
    }

    [Fact]
    public void Training_pipeline_outputs_normalised_chw_in_range()
    {
        var pipeline = ImagePipeline.ForTraining(16, ImageStats.FashionMnist, channels: 3);
        float[] x = pipeline.Apply(Gradient(1, 28, 28), new DataRng(3));

        Assert.Equal(3 * 16 * 16, x.Length);
        float lo = (0 - 0.2860f) / 0.3530f, hi = (1 - 0.2860f) / 0.3530f;
        Assert.All(x, v => Assert.InRange(v, lo - 1e-5f, hi + 1e-5f));
        Assert.Equal(x.AsSpan(0, 256).ToArray(), x.AsSpan(512, 256).ToArray());   // grey replicated to 3 channels
        Assert.Equal(x, pipeline.Apply(Gradient(1, 28, 28), new DataRng(3)));

        var flat = new ByteImage(3, 4, 4);
        for (int c = 0; c < 3; c++) flat.Plane(c).Fill((byte)Math.Round(ImageStats.ImageNet.Mean[c] * 255));
        float[] centred = ImagePipeline.Plain(ImageStats.ImageNet, 3).Apply(flat, new DataRng(0));
        Assert.All(centred, v => Assert.InRange(v, -0.01f, 0.01f));
    }

    [Fact]
    public void Rand_augment_slot_runs_after_crop_and_flip_before_normalisation()
    {
        var recorder = new SizeRecorder();
        var pipeline = ImagePipeline.ForTraining(12, ImageStats.Cifar10, 3, randAugment: recorder);

        Assert.IsType<RandomResizedCrop>(pipeline.Steps[0]);
        Assert.IsType<RandomHorizontalFlip>(pipeline.Steps[1]);
        Assert.Same(recorder, pipeline.Steps[2]);
        pipeline.Apply(Gradient(3, 40, 40), new DataRng(1));
        Assert.Equal((12, 12), recorder.Seen);
    }

    [Fact]
    public void Evaluation_pipeline_gives_the_crop_size()
    {
        var pipeline = ImagePipeline.ForEvaluation(224, ImageStats.ImageNet, 3);
        Assert.Equal(new ResizeShorterSide(256), pipeline.Steps[0]);
        Assert.Equal(3 * 224 * 224, pipeline.Apply(Gradient(3, 300, 400), new DataRng(0)).Length);
    }

    private sealed class SizeRecorder : IImageTransform
    {
        public (int, int) Seen { get; private set; }

        public ByteImage Apply(ByteImage image, DataRng rng)
        {
            Seen = (image.Height, image.Width);
            return image;
        }
    }
}
