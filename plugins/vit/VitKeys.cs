using Crate.Core.Contract;
using Crate.Core.Training;

namespace Crate.Plugins.Vit;

/// <summary>
/// The config keys of the vit task. Model-shape keys are named as the reference implementation's
/// constructor arguments (<c>CRATE(image_size, patch_size, num_classes, dim, depth, heads, pool,
/// channels, dim_head, ista)</c> in <c>model/crate.py</c>); the recipe is the shared trainer's
/// <c>train.*</c> keys plus label smoothing.
/// </summary>
public static class VitKeys
{
    /// <summary>Datasets <c>data.dataset</c> accepts (each is a <see cref="DatasetNeed"/> of the task).</summary>
    public static readonly string[] DatasetNames = ["fashion-mnist", "mnist", "cifar10", "cifar100", "imagefolder"];

    /// <summary><c>data.dataset</c>.</summary>
    public static readonly ConfigKey<string> Dataset = Key.Choice("data.dataset", "fashion-mnist",
        "image dataset (its folder comes from --data NAME=DIR or the shipped default)", DatasetNames);
    /// <summary><c>data.train_limit</c>.</summary>
    public static readonly ConfigKey<long> TrainLimit = Key.Int("data.train_limit", 0,
        "use only this many training images, evenly spaced over the split (0: all)", 0);
    /// <summary><c>data.test_limit</c>.</summary>
    public static readonly ConfigKey<long> TestLimit = Key.Int("data.test_limit", 0,
        "use only this many test images, evenly spaced over the split (0: all)", 0);
    /// <summary><c>data.random_resized_crop</c>.</summary>
    public static readonly ConfigKey<bool> RandomResizedCrop = Key.Bool("data.random_resized_crop", true,
        "training augmentation: RandomResizedCrop(image_size, scale=(crop_min_scale, 1)); off: resize/centre-crop as at test time");
    /// <summary><c>data.crop_min_scale</c>.</summary>
    public static readonly ConfigKey<double> CropMinScale = Key.Float("data.crop_min_scale", 0.08,
        "smallest area fraction of a random resized crop (torchvision: 0.08)", 0.01, 1);
    /// <summary><c>data.hflip</c>.</summary>
    public static readonly ConfigKey<double> HorizontalFlip = Key.Float("data.hflip", 0.5,
        "training augmentation: probability of a horizontal flip (0: off)", 0, 1);
    /// <summary><c>data.workers</c>.</summary>
    public static readonly ConfigKey<long> Workers = Key.Int("data.workers", 1,
        "loader threads (prefetching: each prepares whole batches ahead; otherwise they share the samples of one batch)", 1, 64);

    /// <summary><c>data.prefetch</c>.</summary>
    public static readonly ConfigKey<bool> Prefetch = Key.Bool("data.prefetch", true,
        "prepare batches ahead on loader threads into reused buffers (off: on the training thread)");

    /// <summary><c>model.size</c>.</summary>
    public static readonly ConfigKey<string> Size = Key.Choice("model.size", "custom",
        "a named size of the paper (CRATE-T/S/B/L, ViT-T/S/B): sets dim, depth, heads, dim_head; custom: those keys give the shape",
        "custom", "T", "S", "B", "L");
    /// <summary><c>model.image_size</c>.</summary>
    public static readonly ConfigKey<long> ImageSize = Key.Int("model.image_size", 28, "input side in pixels (images are square)", 1, 4096);
    /// <summary><c>model.patch_size</c>.</summary>
    public static readonly ConfigKey<long> PatchSize = Key.Int("model.patch_size", 4, "patch side P; must divide image_size", 1, 4096);
    /// <summary><c>model.channels</c>.</summary>
    public static readonly ConfigKey<long> Channels = Key.Int("model.channels", 1, "input channels (1 grey, 3 RGB); images are converted", 1, 3);
    /// <summary><c>model.num_classes</c>.</summary>
    public static readonly ConfigKey<long> NumClasses = Key.Int("model.num_classes", 10, "classes of the head; must equal the dataset's", 1, 100000);
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
    public static IReadOnlyList<ConfigKey> ShapeKeys { get; } = [ImageSize, PatchSize, Channels, NumClasses, Dim, Depth, Heads, HeadDim, MlpRatio];

    /// <summary>Every key of the task.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        Dataset, TrainLimit, TestLimit, RandomResizedCrop, CropMinScale, HorizontalFlip, Workers, Prefetch,
        Size, ImageSize, PatchSize, Channels, NumClasses, Dim, Depth, Heads, HeadDim, Pool, Eta, Lambda, MlpRatio, FastKernels,
        LabelSmoothing, EvalBatch, WhiteBoxSamples, AttentionImages,
        .. TrainerKeys.All,
    ];
}
