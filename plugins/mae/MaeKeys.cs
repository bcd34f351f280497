using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Evaluation;
using Crate.Core.Training;

namespace Crate.Plugins.Mae;

/// <summary>
/// The config keys of the mae task. Model-shape keys follow the reference constructor
/// <c>MaskedAutoencoderViT(img_size, patch_size, in_chans, embed_dim, depth, num_heads, decoder_embed_dim,
/// decoder_depth, decoder_num_heads, mlp_ratio, norm_pix_loss, lambd)</c>; the data, augmentation and input-shape
/// keys are Core's <see cref="ImageKeys"/> (mae's own defaults: patch 7, crop_min_scale 0.2); the pre-training recipe is the shared
/// <c>train.*</c> keys, the fine-tuning phase has its own <c>finetune.*</c> keys with layer-wise decay.
/// </summary>
public static class MaeKeys
{
    /// <summary>The fine-tuning phase's recipe keys (<c>finetune.*</c>).</summary>
    public static readonly TrainerKeySet Finetune = TrainerKeys.For("finetune");

    /// <summary><c>data.crop_min_scale</c>: Core's key with MAE pre-training's 0.2.</summary>
    public static readonly ConfigKey<double> CropMinScale = ImageKeys.CropMinScale.WithDefault(0.2,
        "smallest area fraction of a random resized crop (MAE pre-training: 0.2)");

    /// <summary><c>model.size</c>.</summary>
    public static readonly ConfigKey<string> Size = Key.Choice("model.size", "custom",
        "a named size (CRATE-MAE-T/S/B/L, ViT-MAE-S/B): sets the encoder and decoder shape; custom: the shape keys give it",
        "custom", "T", "S", "B", "L");
    /// <summary><c>model.patch_size</c>: Core's key with mae's 7 (a 4x4 grid at 28 px).</summary>
    public static readonly ConfigKey<long> PatchSize = ImageKeys.PatchSize.WithDefault(7);
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
        [ImageKeys.ImageSize, PatchSize, ImageKeys.Channels, Dim, Depth, Heads, DecoderDim, DecoderDepth, DecoderHeads, MlpRatio];

    /// <summary>Every key of the task.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        .. ImageKeys.Data, ImageKeys.RandomResizedCrop, CropMinScale, ImageKeys.HorizontalFlip,
        Size, ImageKeys.ImageSize, PatchSize, ImageKeys.Channels, ImageKeys.NumClasses, Dim, Depth, Heads, DecoderDim, DecoderDepth, DecoderHeads, MlpRatio,
        Eta, Lambda, MaskRatio, NormPixLoss,
        EvalBatch, MaskSeed, ProbeTrainLimit, ProbeMaxIterations, KnnEveryEpoch, Probes, ProbeKeys.LowLabel, ProbeKeys.Controls, WhiteBoxSamples, ReconstructionImages,
        .. TrainerKeys.All, .. Finetune.All, Finetune.LayerDecay,
    ];
}
