using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Training;

namespace Crate.Plugins.Vit;

/// <summary>
/// The config keys of the vit task. Model-shape keys are named as the reference implementation's
/// constructor arguments (<c>CRATE(image_size, patch_size, num_classes, dim, depth, heads, pool,
/// channels, dim_head, ista)</c> in <c>model/crate.py</c>); the data, augmentation and input-shape keys are
/// Core's <see cref="ImageKeys"/> (shared with mae and dino, fitted to the data by <see cref="ImageDataFit"/>); the
/// recipe is the shared trainer's <c>train.*</c> keys plus label smoothing.
/// </summary>
public static class VitKeys
{
    /// <summary><c>model.size</c>.</summary>
    public static readonly ConfigKey<string> Size = Key.Choice("model.size", "custom",
        "a named size of the paper (CRATE-T/S/B/L, ViT-T/S/B): sets dim, depth, heads, dim_head; custom: those keys give the shape",
        "custom", "T", "S", "B", "L");
    /// <summary><c>model.dim</c>.</summary>
    public static readonly ConfigKey<long> Dim = Key.Int("model.dim", 0, "width d (0: from model.size)", 0, 65536);
    /// <summary><c>model.depth</c>.</summary>
    public static readonly ConfigKey<long> Depth = Key.Int("model.depth", 0, "layers L (0: from model.size)", 0, 1024);
    /// <summary><c>model.heads</c>.</summary>
    public static readonly ConfigKey<long> Heads = Key.Int("model.heads", 0, "heads K (CRATE: subspaces) (0: from model.size)", 0, 1024);
    /// <summary><c>model.dim_head</c>.</summary>
    public static readonly ConfigKey<long> HeadDim = Key.Int("model.dim_head", 0,
        "head width p (0: dim / heads; ViT requires dim / heads)", 0, 65536);
    /// <summary><c>model.pool</c>.</summary>
    public static readonly ConfigKey<string> Pool = Key.Choice("model.pool", "cls",
        "CRATE pooling: cls token, or mean over all tokens (the ViT baseline always mean-pools the patch tokens, as the reference)", "cls", "mean");
    /// <summary><c>model.eta</c>.</summary>
    public static readonly ConfigKey<double> Eta = Key.Float("model.eta", 0.1, "CRATE ISTA step size eta (the reference's `ista`)", 0, 10);
    /// <summary><c>model.lambda</c>.</summary>
    public static readonly ConfigKey<double> Lambda = Key.Float("model.lambda", 0.1, "CRATE ISTA sparsity penalty lambda", 0, 10);

    /// <summary>
    /// The fast kernels (ISTA through one product with I + η(D − DᵀD), attention through scaled_dot_product_attention)
    /// or the plain formulas: the same function within float rounding, for timing the fast paths (bench). Left out of
    /// the run key at its default, so runs from before the key keep their keys.
    /// </summary>
    public static readonly ConfigKey<bool> FastKernels = Key.Bool("model.fast_kernels", true,
        "fast ISTA/attention kernels (true) or the plain formulas (false); same function, for timing").OmittedAtDefault();
    /// <summary><c>model.mlp_ratio</c>.</summary>
    public static readonly ConfigKey<double> MlpRatio = Key.Float("model.mlp_ratio", 4.0, "ViT MLP hidden width / dim", 0.01, 64);

    /// <summary><c>train.label_smoothing</c>.</summary>
    public static readonly ConfigKey<double> LabelSmoothing = Key.Float("train.label_smoothing", 0,
        "label smoothing of the training cross-entropy (paper: 0.1)", 0, 0.99);

    /// <summary><c>eval.batch_size</c>.</summary>
    public static readonly ConfigKey<long> EvalBatch = Key.Int("eval.batch_size", 256, "images per evaluation batch", 1);
    /// <summary><c>eval.whitebox_samples</c>.</summary>
    public static readonly ConfigKey<long> WhiteBoxSamples = Key.Int("eval.whitebox_samples", 256,
        "test (and training) images for the layer-wise R^c and sparsity of CRATE (0: none)", 0);
    /// <summary><c>eval.attention_images</c>.</summary>
    public static readonly ConfigKey<long> AttentionImages = Key.Int("eval.attention_images", 4,
        "test images whose last-layer [CLS] attention maps CRATE saves as PNG (0: none)", 0, 256);

    /// <summary>The keys that fix the model's shape, in the reference constructor's terms.</summary>
    public static IReadOnlyList<ConfigKey> ShapeKeys { get; } =
        [ImageKeys.ImageSize, ImageKeys.PatchSize, ImageKeys.Channels, ImageKeys.NumClasses, Dim, Depth, Heads, HeadDim, MlpRatio];

    /// <summary>Every key of the task.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        .. ImageKeys.Data, .. ImageKeys.Augmentation,
        Size, ImageKeys.ImageSize, ImageKeys.PatchSize, ImageKeys.Channels, ImageKeys.NumClasses, Dim, Depth, Heads, HeadDim, Pool, Eta, Lambda, MlpRatio, FastKernels,
        LabelSmoothing, EvalBatch, WhiteBoxSamples, AttentionImages,
        .. TrainerKeys.All,
    ];
}
