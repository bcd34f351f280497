using Crate.Core.Contract;
using Crate.Core.Evaluation;
using Crate.Core.Training;

namespace Crate.Plugins.Mae;

/// <summary>
/// The config keys of the mae task. Model-shape keys follow the reference constructor
/// <c>MaskedAutoencoderViT(img_size, patch_size, in_chans, embed_dim, depth, num_heads, decoder_embed_dim,
/// decoder_depth, decoder_num_heads, mlp_ratio, norm_pix_loss, lambd)</c>; the pre-training recipe is the shared
/// <c>train.*</c> keys, the fine-tuning phase has its own <c>finetune.*</c> keys with layer-wise decay.
/// </summary>
public static class MaeKeys
{
    /// <summary>Datasets <c>data.dataset</c> accepts.</summary>
    public static readonly string[] DatasetNames = ["fashion-mnist", "mnist", "cifar10", "cifar100", "imagefolder"];

    /// <summary>The fine-tuning phase's recipe keys (<c>finetune.*</c>).</summary>
    public static readonly TrainerKeySet Finetune = TrainerKeys.For("finetune");

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
        "training augmentation: RandomResizedCrop(image_size, scale=(crop_min_scale, 1)) as MAE pre-training; off: the test transform");
    /// <summary><c>data.crop_min_scale</c>.</summary>
    public static readonly ConfigKey<double> CropMinScale = Key.Float("data.crop_min_scale", 0.2,
        "smallest area fraction of a random resized crop (MAE pre-training: 0.2)", 0.01, 1);
    /// <summary><c>data.hflip</c>.</summary>
    public static readonly ConfigKey<double> HorizontalFlip = Key.Float("data.hflip", 0.5,
        "training augmentation: probability of a horizontal flip (0: off)", 0, 1);
    /// <summary><c>data.workers</c>.</summary>
    public static readonly ConfigKey<long> Workers = Key.Int("data.workers", 1, "loader threads", 1, 64);
    /// <summary><c>data.prefetch</c>.</summary>
    public static readonly ConfigKey<bool> Prefetch = Key.Bool("data.prefetch", true,
        "prepare batches ahead on loader threads into reused buffers (off: on the training thread)");

    /// <summary><c>model.size</c>.</summary>
    public static readonly ConfigKey<string> Size = Key.Choice("model.size", "custom",
        "a named size (CRATE-MAE-T/S/B/L, ViT-MAE-S/B): sets the encoder and decoder shape; custom: the shape keys give it",
        "custom", "T", "S", "B", "L");
    /// <summary><c>model.image_size</c>.</summary>
    public static readonly ConfigKey<long> ImageSize = Key.Int("model.image_size", 28, "input side in pixels (square images); the patch size must divide it", 1, 4096);
    /// <summary><c>model.patch_size</c>.</summary>
    public static readonly ConfigKey<long> PatchSize = Key.Int("model.patch_size", 7, "patch side P", 1, 4096);
    /// <summary><c>model.channels</c>.</summary>
    public static readonly ConfigKey<long> Channels = Key.Int("model.channels", 1, "input channels (1 grey, 3 RGB); images are converted", 1, 3);
    /// <summary><c>model.num_classes</c>.</summary>
    public static readonly ConfigKey<long> NumClasses = Key.Int("model.num_classes", 10, "classes of the fine-tuning head and the probes; must equal the dataset's", 1, 100000);
    /// <summary><c>model.dim</c>.</summary>
    public static readonly ConfigKey<long> Dim = Key.Int("model.dim", 0, "encoder width (embed_dim; 0: from model.size)", 0, 65536);
    /// <summary><c>model.depth</c>.</summary>
    public static readonly ConfigKey<long> Depth = Key.Int("model.depth", 0, "encoder layers (0: from model.size)", 0, 1024);
    /// <summary><c>model.heads</c>.</summary>
    public static readonly ConfigKey<long> Heads = Key.Int("model.heads", 0, "encoder heads (0: from model.size)", 0, 1024);
    /// <summary><c>model.decoder_dim</c>.</summary>
    public static readonly ConfigKey<long> DecoderDim = Key.Int("model.decoder_dim", 0,
        "decoder width (decoder_embed_dim; 0: from model.size, or CRATE-MAE: the encoder width, which it must equal)", 0, 65536);
    /// <summary><c>model.decoder_depth</c>.</summary>
    public static readonly ConfigKey<long> DecoderDepth = Key.Int("model.decoder_depth", 0, "decoder layers (0: from model.size, or CRATE-MAE: the encoder depth)", 0, 1024);
    /// <summary><c>model.decoder_heads</c>.</summary>
    public static readonly ConfigKey<long> DecoderHeads = Key.Int("model.decoder_heads", 0, "decoder heads (0: from model.size, or CRATE-MAE: the encoder heads)", 0, 1024);
    /// <summary><c>model.mlp_ratio</c>.</summary>
    public static readonly ConfigKey<double> MlpRatio = Key.Float("model.mlp_ratio", 4.0, "MAE (ViT) MLP hidden width / width", 0.01, 64);
    /// <summary><c>model.eta</c>.</summary>
    public static readonly ConfigKey<double> Eta = Key.Float("model.eta", 0.1, "CRATE-MAE ISTA step size eta (the reference's `ista`)", 0, 10);
    /// <summary><c>model.lambda</c>.</summary>
    public static readonly ConfigKey<double> Lambda = Key.Float("model.lambda", 0.5,
        "CRATE-MAE ISTA sparsity penalty lambda (reference default 0.5; the book says 0.1, docs/paper.md §3c)", 0, 10);
    /// <summary><c>model.mask_ratio</c>.</summary>
    public static readonly ConfigKey<double> MaskRatio = Key.Float("model.mask_ratio", 0.75,
        "fraction of patches removed; floor(N·(1 − ratio)) are kept and at least one must be kept and one removed", 0, 1);
    /// <summary><c>model.norm_pix_loss</c>.</summary>
    public static readonly ConfigKey<bool> NormPixLoss = Key.Bool("model.norm_pix_loss", false,
        "targets normalised per patch (mean, unbiased variance + 1e-6), MAE's norm_pix_loss (reference default off)");

    /// <summary><c>eval.batch_size</c>.</summary>
    public static readonly ConfigKey<long> EvalBatch = Key.Int("eval.batch_size", 256, "images per evaluation batch", 1);
    /// <summary><c>eval.mask_seed</c>.</summary>
    public static readonly ConfigKey<long> MaskSeed = Key.Int("eval.mask_seed", 0,
        "seed of the fixed masks of the test reconstruction loss, the figures and the decoder white-box rows (the same for every model and run)", 0);
    /// <summary><c>eval.probe_train_limit</c>.</summary>
    public static readonly ConfigKey<long> ProbeTrainLimit = Key.Int("eval.probe_train_limit", 0,
        "training images (evenly spaced, test transform) whose frozen features fit the k-NN and linear probes (0: all)", 0);
    /// <summary><c>eval.probe_max_iter</c>.</summary>
    public static readonly ConfigKey<long> ProbeMaxIterations = Key.Int("eval.probe_max_iter", 1000,
        "L-BFGS iterations of each linear-probe fit at most (Core's default 1000; a probe that stops early is reported as not converged in the log)", 1, 100000);
    /// <summary><c>eval.knn_every_epoch</c>.</summary>
    public static readonly ConfigKey<bool> KnnEveryEpoch = Key.Bool("eval.knn_every_epoch", false,
        "20-NN top-1 of the encoder's [CLS] (on the probe training images) in every pre-training evaluation row: the probe against pre-training steps");
    /// <summary><c>eval.probes</c>.</summary>
    public static readonly ConfigKey<bool> Probes = Key.Bool("eval.probes", true,
        "k-NN and linear probes of the frozen encoder's [CLS] on unmasked images, and the same on raw pixels");
    /// <summary><c>eval.whitebox_samples</c>.</summary>
    public static readonly ConfigKey<long> WhiteBoxSamples = Key.Int("eval.whitebox_samples", 256,
        "test images for the layer-wise R^c and sparsity of CRATE-MAE's encoder (split test) and decoder (split test-decoder) (0: none)", 0);
    /// <summary><c>eval.reconstruction_images</c>.</summary>
    public static readonly ConfigKey<long> ReconstructionImages = Key.Int("eval.reconstruction_images", 4,
        "test images saved as PNG: original | masked input | reconstruction | reconstruction with the visible patches (0: none)", 0, 256);

    /// <summary>The keys that fix the model's shape.</summary>
    public static IReadOnlyList<ConfigKey> ShapeKeys { get; } =
        [ImageSize, PatchSize, Channels, Dim, Depth, Heads, DecoderDim, DecoderDepth, DecoderHeads, MlpRatio];

    /// <summary>Every key of the task.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        Dataset, TrainLimit, TestLimit, RandomResizedCrop, CropMinScale, HorizontalFlip, Workers, Prefetch,
        Size, ImageSize, PatchSize, Channels, NumClasses, Dim, Depth, Heads, DecoderDim, DecoderDepth, DecoderHeads, MlpRatio,
        Eta, Lambda, MaskRatio, NormPixLoss,
        EvalBatch, MaskSeed, ProbeTrainLimit, ProbeMaxIterations, KnnEveryEpoch, Probes, ProbeKeys.LowLabel, ProbeKeys.Controls, WhiteBoxSamples, ReconstructionImages,
        .. TrainerKeys.All, .. Finetune.All, Finetune.LayerDecay,
    ];
}
