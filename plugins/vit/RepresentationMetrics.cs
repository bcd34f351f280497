using Crate.Core.Data.Images;
using Crate.Core.Evaluation;
using Crate.Core.Modules;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>
/// DINO's k-NN (k = 20, T = 0.07, and k = 1; Core's <see cref="KnnClassifier"/>) on the trained classifier's
/// frozen features (CRATE: the final [CLS] token; ViT: the normed mean of the patch tokens, what each head
/// reads), and the same k-NN on raw pixels, so the vit report sets a representation measure that the mae and
/// dino tasks share beside top-1. Training and test images go through the test pipeline (no augmentation).
/// </summary>
public static class RepresentationMetrics
{
    private const int Batch = 256;

    /// <summary><c>knn20_top1</c>, <c>knn1_top1</c>, and <c>raw_knn20_top1</c>, <c>raw_knn1_top1</c> (all in %), with top-5 beside when there are more than 5 classes.</summary>
    public static Dictionary<string, double> Knn(nn.Module<Tensor, Tensor> model, ImageTaskData data, Device device)
    {
        Func<Tensor, Tensor> features = model switch
        {
            CrateClassifier crate => x => crate.Features(x.to(device)),
            VisionTransformer vit => x => vit.Features(x.to(device)),
            _ => throw new ArgumentException($"no feature map for {model.GetType().Name}", nameof(model)),
        };
        int classes = data.Test.ClassNames.Count;
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        using (var train = Extract(data.Train, "train"))
        using (var test = Extract(data.Test, "test"))
            Add(metrics, "", train, test);
        using (var rawTrain = RawFeatures.Pixels(Batches(data.Train), classes, "train pixels"))
        using (var rawTest = RawFeatures.Pixels(Batches(data.Test), classes, "test pixels"))
            Add(metrics, "raw_", rawTrain, rawTest);
        return metrics;

        FeatureSet Extract(IImageDataset split, string name) =>
            FeatureExtractor.Extract(features, Batches(split), classes, Crate.Core.Evaluation.Pooling.Cls, model, name);

        IEnumerable<ProbeBatch> Batches(IImageDataset split)
        {
            var loader = new ImageBatchLoader(split, data.TestPipeline, new ImageLoaderOptions { BatchSize = Batch, Shuffle = false });
            for (int start = 0; start < split.Count; start += Batch)
            {
                var batch = loader.PrepareBatch(new LoaderPosition(0, start));        // on this thread, inside the extractor's scope
                yield return new ProbeBatch(batch.ViewTensor(0), batch.LabelTensor()); // [B, C, H, W], [B]
            }
        }
    }

    private static void Add(Dictionary<string, double> metrics, string prefix, FeatureSet train, FeatureSet test)
    {
        var result = RepresentationProbes.Run(train, test, new ProbeOptions(Linear: false));
        foreach (var (name, value) in result.ToMetrics(prefix)) metrics[name] = value;
    }
}
