using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using TorchSharp;
using Pooling = Crate.Core.Evaluation.Pooling;
using static TorchSharp.torch;

namespace Crate.Plugins.Mae;

/// <summary>
/// Everything measured on a (pre-)trained masked autoencoder, on the deterministic test pipeline:
/// the masked-patch reconstruction loss of the test split under fixed masks (the shuffle noise of test image i is
/// row i of a table drawn once from <c>eval.mask_seed</c>, so every model and run masks the same patches);
/// k-NN and linear probes of the frozen encoder's [CLS] on unmasked images, with the same probes on raw pixels;
/// fine-tuning top-1; CRATE-MAE's white-box rows for encoder (split <c>test</c>) and decoder (<c>test-decoder</c>);
/// and reconstruction figures.
/// </summary>
public sealed class MaeEvaluator(MaeData data, MaeConfig shape, int keep, long maskSeed, int batchSize, int workers, bool prefetch) : IDisposable
{
    private Tensor? _noise;

    /// <summary>Disposes the noise table.</summary>
    public void Dispose()
    {
        _noise?.Dispose();
        _noise = null;
    }

    /// <summary>The shuffle noise of every test image, [test count, N], CPU, drawn once from the mask seed.</summary>
    public Tensor TestNoise => _noise ??= DrawNoise(data.Test.Count, shape.NumPatches, maskSeed);

    /// <summary>Noise [count, N] from a generator seeded with <paramref name="seed"/> (uniform [0, 1), as torch.rand).</summary>
    public static Tensor DrawNoise(int count, int patches, long seed)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return rand(count, patches, generator: generator).DetachFromDisposeScope();   // [count, N]
    }

    /// <summary>The fixed mask of test images <paramref name="start"/> … start + count − 1 on <paramref name="device"/>.</summary>
    public MaeMask TestMask(int start, int count, Device device)
    {
        using var scope = NewDisposeScope();
        return MaeMask.FromNoise(TestNoise.narrow(0, start, count).to(device), keep);
    }

    /// <summary>Mean masked-patch loss over the test split under the fixed masks (<c>recon_loss</c>), model in eval mode, no gradients.</summary>
    public double ReconstructionLoss(IMaskedAutoencoder model, Device device, CancellationToken cancellation = default)
    {
        double sum = 0;
        long total = 0;
        ForEachTestBatch(device, cancellation, (start, batch) =>
        {
            using var mask = TestMask(start, batch.Count, device);
            sum += model.Forward(batch.Images, mask).Loss.ToDouble() * batch.Count;   // every image masks the same number of patches
            total += batch.Count;
        });
        return sum / total;
    }

    /// <summary>top1 (and top5 with more than 5 classes) in %, and the cross-entropy <c>loss</c> of a classifier on the test split.</summary>
    public Dictionary<string, double> Classification(nn.Module<Tensor, Tensor> classifier, Device device, CancellationToken cancellation = default)
    {
        long correct = 0, correct5 = 0, total = 0;
        double lossSum = 0;
        int classes = data.Test.ClassNames.Count;
        ForEachTestBatch(device, cancellation, (_, batch) =>
        {
            var logits = classifier.forward(batch.Images);                                   // [B, classes]
            lossSum += Losses.CrossEntropy(logits, batch.Labels).ToDouble() * batch.Count;
            correct += logits.argmax(-1).eq(batch.Labels).sum().ToInt64();
            if (classes > 5)
                correct5 += logits.topk(5, -1).indexes.eq(batch.Labels.unsqueeze(1)).any(1).sum().ToInt64();   // [B, 5] → [B]
            total += batch.Count;
        });
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["top1"] = 100.0 * correct / total,
            ["loss"] = lossSum / total,
        };
        if (classes > 5) metrics["top5"] = 100.0 * correct5 / total;
        return metrics;
    }

    /// <summary>
    /// k-NN (k = 20, 1) and linear probes of the frozen encoder's [CLS] (after the final norm) on unmasked images:
    /// fitted on <paramref name="probeTrain"/> training images (test transform), scored on the test split; then the
    /// same probes on raw pixels, prefixed <c>raw_</c>.
    /// </summary>
    public Dictionary<string, double> Probes(IMaskedAutoencoder model, nn.Module module, int probeTrain, int maxIterations, Device device)
    {
        var train = MaeData.Limit(data.Train, probeTrain);
        int classes = data.Test.ClassNames.Count;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var options = new ProbeOptions(LinearOptions: new LinearProbeOptions(MaxIterations: maxIterations));
        using (var trainSource = Source(train))
        using (var testSource = Source(data.Test))
        {
            using var trainFeatures = FeatureExtractor.Extract(x => model.Encode(x), trainSource.BatchesPerEpoch,
                i => Probe(trainSource, i, device), classes, Pooling.Cls, module, "encoder train");
            using var testFeatures = FeatureExtractor.Extract(x => model.Encode(x), testSource.BatchesPerEpoch,
                i => Probe(testSource, i, device), classes, Pooling.Cls, module, "encoder test");
            foreach (var (k, v) in RepresentationProbes.Run(trainFeatures, testFeatures, options).ToMetrics()) metrics[k] = v;
            using var rawTrain = FeatureExtractor.Extract(x => x.flatten(1), trainSource.BatchesPerEpoch,
                i => Probe(trainSource, i, CPU), classes, Pooling.Cls, null, "raw pixels train");
            using var rawTest = FeatureExtractor.Extract(x => x.flatten(1), testSource.BatchesPerEpoch,
                i => Probe(testSource, i, CPU), classes, Pooling.Cls, null, "raw pixels test");
            foreach (var (k, v) in RepresentationProbes.Run(rawTrain, rawTest, options).ToMetrics("raw_")) metrics[k] = v;
        }
        return metrics;

        static ProbeBatch Probe(ImageBatchSource source, long i, Device device)
        {
            var batch = source.Get(new DataPosition(0, i), device);
            return new ProbeBatch(batch.Images, batch.Labels);
        }
    }

    /// <summary>
    /// R^c, R and (non-)zero fractions per layer (docs/paper.md §4) of CRATE-MAE on the first <paramref name="samples"/>
    /// test images: the encoder on unmasked images (split <c>test</c>, layers 1 … L) and the decoder on the encoder
    /// output of the fixed-mask images it reconstructs (split <c>test-decoder</c>, layers 1 … L_dec; R^c of each
    /// decoder layer's MSSA input).
    /// </summary>
    public List<WhiteBoxRow> WhiteBox(CrateMae model, int samples, Device device)
    {
        var rows = new List<WhiteBoxRow>();
        if (samples <= 0) return rows;
        var encoder = new WhiteBoxAccumulator();
        var decoder = new WhiteBoxAccumulator();
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            ForEachTestBatch(device, CancellationToken.None, (start, batch) =>
            {
                if (start >= samples) return;
                int count = Math.Min(batch.Count, samples - start);
                var images = batch.Images.narrow(0, 0, count);                             // [b, C, H, W]
                encoder.Add(model.EncoderLayers, model.Embed(images));
                using var mask = TestMask(start, count, device);
                decoder.Add(model.DecoderLayers, model.EncodeMasked(images, mask));
            }, limit: samples);
        }
        finally
        {
            if (wasTraining) model.train();
        }
        rows.AddRange(encoder.Rows("test"));
        rows.AddRange(decoder.Rows("test-decoder"));
        return rows;
    }

    /// <summary>
    /// One PNG per test image (evenly spaced): original | masked input (removed patches grey) | reconstruction |
    /// reconstruction with the visible patches pasted back, under the fixed masks, in
    /// <c><paramref name="runDirectory"/>/reconstructions/</c>. With norm_pix_loss the prediction is put back into
    /// pixel space with each target patch's own mean and std (as MAE's visualisation does).
    /// </summary>
    public List<Artifact> Figures(IMaskedAutoencoder model, nn.Module module, int count, Device device, string runDirectory, string modelName)
    {
        var artifacts = new List<Artifact>();
        count = Math.Min(count, data.Test.Count);
        if (count <= 0) return artifacts;
        bool wasTraining = module.training;
        module.eval();
        try
        {
            using var noGrad = no_grad();
            var rng = new DataRng(0);                                                      // the test pipeline draws nothing
            foreach (int index in Enumerable.Range(0, count).Select(k => (int)((long)k * data.Test.Count / count)))
            {
                using var scope = NewDisposeScope();
                ByteImage input = data.TestPipeline.Transform(data.Test.GetImage(index), rng);
                var pixels = new float[input.Data.Length];
                data.TestPipeline.Normalize(input, pixels);
                var x = tensor(pixels, [1, input.Channels, input.Height, input.Width]).to(device);   // [1, C, H, W]
                using var mask = TestMask(index, 1, device);
                var prediction = model.Forward(x, mask).Prediction;                                // [1, N, P·P·C]
                var target = Patchify.Apply(x, shape.PatchSize);                                   // [1, N, P·P·C]
                if (shape.NormPixLoss)
                    prediction = prediction * (target.var(-1, unbiased: true, keepdim: true) + 1e-6).sqrt() + target.mean([-1], keepdim: true);
                var removed = mask.Mask.unsqueeze(-1);                                             // [1, N, 1]
                var pasted = prediction * removed + target * (1 - removed);                        // [1, N, P·P·C]
                var panels = new List<ByteImage>
                {
                    input,
                    ToBytes(Unpatch(target * (1 - removed)), removed),
                    ToBytes(Unpatch(prediction), null),
                    ToBytes(Unpatch(pasted), null),
                };
                string label = data.Test.ClassNames[data.Test.GetLabel(index)];
                string relative = Path.Combine("reconstructions", $"test-{index:D5}.png");
                PngWriter.Write(Path.Combine(runDirectory, relative), Strip(panels));
                artifacts.Add(new Artifact($"reconstruction test {index} ({label})", relative,
                    $"{modelName} on test image {index} (class {label}), fixed mask (eval.mask_seed): original | masked input | reconstruction | reconstruction with visible patches"));
            }
        }
        finally
        {
            if (wasTraining) module.train();
        }
        return artifacts;

        Tensor Unpatch(Tensor patches) => Patchify.Unapply(patches, shape.PatchSize, shape.Channels, shape.Grid, shape.Grid);   // [1, C, H, W]

        // Normalised image [1, C, H, W] → bytes; removed patches (mask [1, N, 1] = 1) grey when a mask is given.
        ByteImage ToBytes(Tensor image, Tensor? removedPatches)
        {
            var mean = tensor(data.Stats.Mean, [1, shape.Channels, 1, 1]).to(image.device);
            var std = tensor(data.Stats.Std, [1, shape.Channels, 1, 1]).to(image.device);
            var values = (image * std + mean).clamp(0, 1) * 255;                                   // [1, C, H, W]
            if (removedPatches is not null)
            {
                var grey = Unpatch(removedPatches.expand(1, shape.NumPatches, shape.PatchValues));
                values = values * (1 - grey) + 128 * grey;
            }
            var bytes = values.round().to(ScalarType.Byte).cpu().contiguous().data<byte>().ToArray();
            return new ByteImage(shape.Channels, shape.ImageSize, shape.ImageSize, bytes);
        }
    }

    /// <summary>Panels side by side, RGB on white, each upscaled (nearest neighbour) to at least 112 pixels.</summary>
    public static ByteImage Strip(IReadOnlyList<ByteImage> panels)
    {
        const int gap = 4;
        int side = Math.Max(112, panels.Max(p => Math.Max(p.Height, p.Width)));
        int width = panels.Count * side + (panels.Count - 1) * gap;
        var strip = new ByteImage(3, side, width);
        Array.Fill(strip.Data, (byte)255);
        int plane = side * width;
        for (int m = 0; m < panels.Count; m++)
        {
            var panel = panels[m];
            int left = m * (side + gap);
            for (int y = 0; y < side; y++)
                for (int x = 0; x < side; x++)
                {
                    int sy = y * panel.Height / side, sx = x * panel.Width / side;
                    for (int c = 0; c < 3; c++)
                        strip.Data[c * plane + y * width + left + x] = panel[panel.Channels == 1 ? 0 : c, sy, sx];
                }
        }
        return strip;
    }

    private ImageBatchSource Source(IImageDataset dataset) =>
        new(new ImageBatchLoader(dataset, data.TestPipeline,
            new ImageLoaderOptions { BatchSize = batchSize, Shuffle = false, Prefetch = 2, Workers = workers }), prefetch);

    // Test batches in order, one dispose scope each, no gradients; body gets (index of the batch's first image, batch).
    private void ForEachTestBatch(Device device, CancellationToken cancellation, Action<int, ViewBatch> body, int limit = int.MaxValue)
    {
        using var noGrad = no_grad();
        using var source = Source(data.Test);
        for (long i = 0; i < source.BatchesPerEpoch; i++)
        {
            int start = (int)(i * batchSize);
            if (start >= limit) break;
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            body(start, source.Get(new DataPosition(0, i), device));
        }
    }
}
