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
public sealed class MaeEvaluator(ImageTaskData data, MaeConfig shape, int keep, long maskSeed, int batchSize, int workers, bool prefetch) : IDisposable
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
    /// Mean squared error of the reconstruction with every patch visible (no patch removed, the model sees the whole
    /// image), averaged over every patch's values and every patch of the test split (<c>recon_full_mse</c>): how well the
    /// autoencoder reproduces what it sees, beside <see cref="ReconstructionLoss"/> (what it fills in).
    /// </summary>
    public double FullReconstructionMse(IMaskedAutoencoder model, Device device, CancellationToken cancellation = default)
    {
        double sum = 0;
        long total = 0;
        ForEachTestBatch(device, cancellation, (_, batch) =>
        {
            using var none = MaeMask.None(batch.Count, shape.NumPatches, device);
            var prediction = model.Decode(model.EncodeMasked(batch.Images, none), none);      // [B, N, P·P·C]
            sum += MaskedAutoencoder.Loss(batch.Images, prediction, ones_like(none.Mask), shape.PatchSize, shape.NormPixLoss).ToDouble() * batch.Count;
            total += batch.Count;
        });
        return sum / total;
    }

    /// <summary>
    /// The probe suite of a run on this data: full-label probes on <paramref name="probeTrain"/> evenly spaced training
    /// images (0: all), low-label probes of <paramref name="perClass"/> images per class fixed by <paramref name="seed"/>,
    /// at most <paramref name="maxIterations"/> L-BFGS iterations per linear fit.
    /// </summary>
    public ProbeSuite Suite(int probeTrain, IReadOnlyList<int> perClass, long seed, int maxIterations) =>
        ProbeSuite.For(Enumerable.Range(0, data.Train.Count).Select(i => (long)data.Train.GetLabel(i)).ToArray(),
            data.Test.ClassNames.Count, probeTrain, perClass, seed,
            new ProbeOptions(LinearOptions: new LinearProbeOptions(MaxIterations: maxIterations)));

    /// <summary>
    /// Every probe of <paramref name="suite"/> on the frozen encoder's [CLS] (after the final norm) of unmasked images
    /// (training images through the test transform, scored on the test split), metrics prefixed <paramref name="prefix"/>
    /// (<c>init_</c> for the encoder at its initialisation).
    /// </summary>
    public Dictionary<string, double> EncoderProbes(IMaskedAutoencoder model, nn.Module module, ProbeSuite suite, Device device, string prefix = "")
    {
        using var trainSource = Source(Pool(suite));
        using var testSource = Source(data.Test);
        using var trainFeatures = FeatureExtractor.Extract(x => model.Encode(x), trainSource.BatchesPerEpoch,
            i => Probe(trainSource, i, device), data.Test.ClassNames.Count, Pooling.Cls, module, $"{prefix}encoder train");
        using var testFeatures = FeatureExtractor.Extract(x => model.Encode(x), testSource.BatchesPerEpoch,
            i => Probe(testSource, i, device), data.Test.ClassNames.Count, Pooling.Cls, module, $"{prefix}encoder test");
        return suite.Run(trainFeatures, testFeatures, prefix);
    }

    /// <summary>
    /// The per-evaluation monitor: <c>knn20_top1</c> of the encoder's [CLS] on the full-label probe rows of
    /// <paramref name="suite"/> (no linear probe, no low-label probes), so the rows show the probe against pre-training steps.
    /// </summary>
    public Dictionary<string, double> Monitor(IMaskedAutoencoder model, nn.Module module, ProbeSuite suite, Device device)
    {
        var knnOnly = new ProbeSuite(suite.FullRows, [], new ProbeOptions(KnnKs: [KnnClassifier.DefaultK], Linear: false));
        return EncoderProbes(model, module, knnOnly, device).Where(m => m.Key == "knn20_top1").ToDictionary(m => m.Key, m => m.Value);
    }

    /// <summary>The same probes on raw pixels (the test transform's normalised values), prefixed <c>raw_</c>; through <paramref name="cache"/> when given.</summary>
    public Dictionary<string, double> RawProbes(ProbeSuite suite, ProbeCache? cache)
    {
        using var trainSource = Source(Pool(suite));
        using var testSource = Source(data.Test);
        using var rawTrain = FeatureExtractor.Extract(x => x.flatten(1), trainSource.BatchesPerEpoch,
            i => Probe(trainSource, i, CPU), data.Test.ClassNames.Count, Pooling.Cls, null, "raw pixels train");
        using var rawTest = FeatureExtractor.Extract(x => x.flatten(1), testSource.BatchesPerEpoch,
            i => Probe(testSource, i, CPU), data.Test.ClassNames.Count, Pooling.Cls, null, "raw pixels test");
        return suite.Run(rawTrain, rawTest, "raw_", cache);
    }

    // The training images a suite fits on, in its pool order.
    private IImageDataset Pool(ProbeSuite suite) =>
        suite.PoolRows is { } rows ? new ImageSubset(data.Train, rows.Select(r => (int)r).ToArray()) : data.Train;

    private static ProbeBatch Probe(ImageBatchSource source, long i, Device device)
    {
        var batch = source.Get(new DataPosition(0, i), device);
        return new ProbeBatch(batch.Images, batch.Labels);
    }

    /// <summary>
    /// R^c, R and (non-)zero fractions per layer (docs/paper.md §4) of CRATE-MAE on the first <paramref name="samples"/>
    /// test images, split names suffixed <paramref name="suffix"/> (<c>@init</c> for the untrained model):
    /// <list type="bullet">
    /// <item><c>test</c>: the encoder layers 1 … L on unmasked images, every token ([CLS] included, the reference's protocol);</item>
    /// <item><c>test-decoder</c>: the decoder layers 1 … L_dec on the encoder output of the fixed-mask images they reconstruct,
    /// every token ([CLS] and the mask tokens included); R^c of each decoder layer's MSSA input;</item>
    /// <item><c>test-decoder-visible</c> / <c>test-decoder-masked</c>: the same pass, measured on the visible patches' tokens
    /// only / on the mask tokens only ([CLS] out of both).</item>
    /// </list>
    /// Every layer also gets R^c after its MSSA step (<see cref="WhiteBoxMeasures.RcAfterStep"/>), so a row says whether
    /// the step compressed (encoder) or expanded (decoder) through the layer's own subspaces.
    /// </summary>
    public List<WhiteBoxRow> WhiteBox(CrateMae model, int samples, Device device, string suffix = "")
    {
        var rows = new List<WhiteBoxRow>();
        if (samples <= 0) return rows;
        var encoder = new WhiteBoxAccumulator();
        var decoder = new WhiteBoxAccumulator();
        var visible = new WhiteBoxAccumulator();
        var masked = new WhiteBoxAccumulator();
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
                var latent = model.EncodeMasked(images, mask);                            // [b, N + 1, d], [CLS] first
                decoder.Add(model.DecoderLayers, latent);
                // Token positions (patch p is token p + 1): kept patches in ascending order, removed ones likewise.
                var order = mask.Mask.sort(1, stable: true).Indices;                      // [b, N]: kept (0) first, then removed (1)
                visible.Add(model.DecoderLayers, latent, order.narrow(1, 0, keep).sort(1).Values + 1);
                masked.Add(model.DecoderLayers, latent, order.narrow(1, keep, shape.NumPatches - keep).sort(1).Values + 1);
            }, limit: samples);
        }
        finally
        {
            if (wasTraining) model.train();
        }
        rows.AddRange(encoder.Rows("test" + suffix));
        rows.AddRange(decoder.Rows("test-decoder" + suffix));
        rows.AddRange(visible.Rows("test-decoder-visible" + suffix));
        rows.AddRange(masked.Rows("test-decoder-masked" + suffix));
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
