using Crate.Core.WhiteBox;
using Crate.Core.Modules;
using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>
/// Classification metrics on a whole split, in dataset order:
/// <c>top1</c> and (with more than 5 classes) <c>top5</c> in %, <c>loss</c> (plain cross-entropy, nats),
/// <c>correct</c> and <c>total</c>. With <paramref name="prefetch"/> each evaluation reads the split through a
/// prefetching <see cref="ImageBatchSource"/> (allocation-free loader threads, stopped when it ends); without
/// it the batches are prepared on the calling thread.
/// </summary>
public sealed class VitEvaluation(IImageDataset data, ImagePipeline pipeline, int batchSize, int workers, bool prefetch = true)
{
    private readonly ImageBatchLoader _loader = new(data, pipeline,
        new ImageLoaderOptions { BatchSize = batchSize, Shuffle = false, Prefetch = 2, Workers = workers });

    /// <summary>Images evaluated.</summary>
    public int Count => data.Count;

    /// <summary>
    /// Evaluates <paramref name="model"/> (put in eval mode, no gradients, one dispose scope per batch);
    /// the model's training flag is restored afterwards.
    /// </summary>
    public Dictionary<string, double> Evaluate(nn.Module<Tensor, Tensor> model, Device device, CancellationToken cancellation = default)
    {
        using var evalMode = EvalMode.Of(model);
        long correct = 0, correct5 = 0, total = 0;
        double lossSum = 0;
        int classes = data.ClassNames.Count;
        {
            using var noGrad = no_grad();
            using var batches = new ImageBatchSource(_loader, prefetch);
            for (int i = 0; i < batches.BatchesPerEpoch; i++)
            {
                cancellation.ThrowIfCancellationRequested();
                using var scope = NewDisposeScope();
                var batch = batches.Get(new DataPosition(0, i), device);
                var (images, labels) = (batch.Images, batch.Labels);                // [B, C, H, W], [B]
                var logits = model.forward(images);                                 // [B, classes]
                lossSum += Losses.CrossEntropy(logits, labels).ToDouble() * batch.Count;
                correct += logits.argmax(-1).eq(labels).sum().ToInt64();
                if (classes > 5)
                    correct5 += logits.topk(5, -1).indexes.eq(labels.unsqueeze(1)).any(1).sum().ToInt64();   // [B, 5] → [B]
                total += batch.Count;
            }
        }
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal)
        {
            ["top1"] = 100.0 * correct / total,
            ["loss"] = lossSum / total,
            ["correct"] = correct,
            ["total"] = total,
        };
        if (classes > 5) metrics["top5"] = 100.0 * correct5 / total;
        return metrics;
    }

    /// <summary>
    /// R^c, R and the (non-)zero fractions per layer (docs/paper.md §4) of the trained CRATE on
    /// <paramref name="samples"/> test images (split <c>test</c>) and as many training images without
    /// augmentation (<c>train</c>), and of the same network at its initialisation on the test images (<c>test@init</c>).
    /// </summary>
    public static List<WhiteBoxRow> MeasureWhiteBox(CrateClassifier trained, ImageTaskData data, int samples, Device device,
        TrainingSeeds seeds, VisionShape shape, ResolvedConfig config)
    {
        var rows = new List<WhiteBoxRow>();
        if (samples <= 0) return rows;
        rows.AddRange(Measure(trained, data.Test, "test"));
        rows.AddRange(Measure(trained, data.Train, "train"));
        torch.manual_seed(seeds.Init);                                   // the trained model's starting point
        using var initial = (CrateClassifier)shape.Build(VisionShape.Crate, config);
        initial.to(device);
        rows.AddRange(Measure(initial, data.Test, "test@init"));
        return rows;

        List<WhiteBoxRow> Measure(CrateClassifier model, IImageDataset split, string name)
        {
            var subset = samples >= split.Count ? split : ImageSubset.EvenlySpaced(split, samples);
            var loader = new ImageBatchLoader(subset, data.TestPipeline, new ImageLoaderOptions { BatchSize = 128, Shuffle = false });
            var accumulator = new WhiteBoxAccumulator();
            for (int start = 0; start < subset.Count; start += 128)
            {
                using var scope = NewDisposeScope();
                var batch = loader.PrepareBatch(new LoaderPosition(0, start));          // on this thread, no loader thread
                WhiteBoxProbe.Add(accumulator, model, batch.ViewTensor(0, device));   // [B, C, H, W]
            }
            return accumulator.Rows(name).ToList();
        }
    }
}
