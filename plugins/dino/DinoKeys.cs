using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Evaluation;
using Crate.Core.Training;

namespace Crate.Plugins.Dino;

/// <summary>
/// The config keys of the dino task. Backbone keys follow the vit task's (the reference constructor's terms);
/// the <c>dino.*</c> keys are the arguments of facebookresearch/dino's <c>main_dino.py</c> under their own names
/// (<c>out_dim</c>, <c>norm_last_layer</c>, <c>momentum_teacher</c>, <c>warmup_teacher_temp</c>, ...); the crop
/// keys are its <c>global_crops_scale</c>, <c>local_crops_scale</c> and <c>local_crops_number</c>. The dataset, loader,
/// channel and patch keys are Core's <see cref="ImageKeys"/> (dino's own defaults: 3 channels, patch 16); a fixed-size
/// dataset sets the crop sizes (<see cref="DinoTask.FittedSizes"/>). The recipe is
/// the shared trainer's <c>train.*</c> keys, except that the learning rate is given per 256 samples
/// (<c>train.base_lr</c>) and scaled with the batch as DINO does.
/// </summary>
public static class DinoKeys
{
    /// <summary><c>data.global_size</c>.</summary>
    public static readonly ConfigKey<long> GlobalSize = Key.Int("data.global_size", 224,
        "side of the 2 global crops in pixels; the backbones' position table is built for this size; follows a fixed-size dataset unless set", 1, 4096);
    /// <summary><c>data.local_size</c>.</summary>
    public static readonly ConfigKey<long> LocalSize = Key.Int("data.local_size", 96,
        "side of the local crops in pixels (the position table is interpolated to their grid); half the global size when that follows the data, unless set", 1, 4096);
    /// <summary><c>data.local_crops</c>.</summary>
    public static readonly ConfigKey<long> LocalCrops = Key.Int("data.local_crops", 8,
        "local crops per image (DINO's local_crops_number)", 0, 64);
    /// <summary><c>data.global_min_scale</c>.</summary>
    public static readonly ConfigKey<double> GlobalMinScale = Key.Float("data.global_min_scale", 0.4,
        "smallest area fraction of a global crop (global_crops_scale = (this, 1))", 0.01, 1);
    /// <summary><c>data.local_min_scale</c>.</summary>
    public static readonly ConfigKey<double> LocalMinScale = Key.Float("data.local_min_scale", 0.05,
        "smallest area fraction of a local crop", 0.01, 1);
    /// <summary><c>data.local_max_scale</c>.</summary>
    public static readonly ConfigKey<double> LocalMaxScale = Key.Float("data.local_max_scale", 0.4,
        "largest area fraction of a local crop (local_crops_scale = (local_min_scale, this))", 0.01, 1);

    /// <summary><c>model.size</c>.</summary>
    public static readonly ConfigKey<string> Size = Key.Choice("model.size", "custom",
        "a named size of the paper (CRATE-T/S/B/L, ViT-T/S/B): sets dim, depth, heads; custom: those keys give the shape",
        "custom", "T", "S", "B", "L");
    /// <summary><c>model.patch_size</c>: Core's key with dino's 16; it must divide both crop sizes.</summary>
    public static readonly ConfigKey<long> PatchSize = ImageKeys.PatchSize.WithDefault(16,
        "patch side P; must divide both crop sizes (when data.global_size follows the data, P follows it too unless set)");
    /// <summary><c>model.channels</c>: Core's key with dino's 3.</summary>
    public static readonly ConfigKey<long> Channels = ImageKeys.Channels.WithDefault(3);
    /// <summary><c>model.dim</c>.</summary>
    public static readonly ConfigKey<long> Dim = Key.Int("model.dim", 0, "width d (0: from model.size)", 0, 65536);
    /// <summary><c>model.depth</c>.</summary>
    public static readonly ConfigKey<long> Depth = Key.Int("model.depth", 0, "layers L (0: from model.size)", 0, 1024);
    /// <summary><c>model.heads</c>.</summary>
    public static readonly ConfigKey<long> Heads = Key.Int("model.heads", 0, "heads K (CRATE: subspaces) (0: from model.size)", 0, 1024);
    /// <summary><c>model.eta</c>.</summary>
    public static readonly ConfigKey<double> Eta = Key.Float("model.eta", 0.1, "CRATE ISTA step size eta", 0, 10);
    /// <summary><c>model.lambda</c>.</summary>
    public static readonly ConfigKey<double> Lambda = Key.Float("model.lambda", 0.1, "CRATE ISTA sparsity penalty lambda", 0, 10);
    /// <summary><c>model.mlp_ratio</c>.</summary>
    public static readonly ConfigKey<double> MlpRatio = Key.Float("model.mlp_ratio", 4.0, "ViT MLP hidden width / dim", 0.01, 64);

    /// <summary><c>dino.out_dim</c>.</summary>
    public static readonly ConfigKey<long> OutDim = Key.Int("dino.out_dim", 65536, "prototypes K of the head's last layer (DINO: 65536)", 2, 1 << 20);
    /// <summary><c>dino.hidden_dim</c>.</summary>
    public static readonly ConfigKey<long> HiddenDim = Key.Int("dino.hidden_dim", 2048, "hidden width of the head's 3-layer MLP (DINO: 2048)", 1, 65536);
    /// <summary><c>dino.bottleneck_dim</c>.</summary>
    public static readonly ConfigKey<long> BottleneckDim = Key.Int("dino.bottleneck_dim", 256, "output width of the head's MLP, before l2-normalisation (DINO: 256)", 1, 65536);
    /// <summary><c>dino.norm_last_layer</c>.</summary>
    public static readonly ConfigKey<bool> NormLastLayer = Key.Bool("dino.norm_last_layer", true,
        "fix the norm of the weight-normalised prototype layer (weight_g = 1, not trained), DINO's norm_last_layer");
    /// <summary><c>dino.momentum_teacher</c>.</summary>
    public static readonly ConfigKey<double> MomentumTeacher = Key.Float("dino.momentum_teacher", 0.996,
        "teacher EMA momentum at step 0; a cosine takes it to 1 at the end", 0, 1);
    /// <summary><c>dino.center_momentum</c>.</summary>
    public static readonly ConfigKey<double> CenterMomentum = Key.Float("dino.center_momentum", 0.9, "EMA momentum of the centre of the teacher outputs", 0, 1);
    /// <summary><c>dino.warmup_teacher_temp</c>.</summary>
    public static readonly ConfigKey<double> WarmupTeacherTemp = Key.Float("dino.warmup_teacher_temp", 0.04, "teacher temperature at epoch 0", 1e-4, 10);
    /// <summary><c>dino.teacher_temp</c>.</summary>
    public static readonly ConfigKey<double> TeacherTemp = Key.Float("dino.teacher_temp", 0.07, "teacher temperature after the warm-up", 1e-4, 10);
    /// <summary><c>dino.warmup_teacher_temp_epochs</c>.</summary>
    public static readonly ConfigKey<long> WarmupTeacherTempEpochs = Key.Int("dino.warmup_teacher_temp_epochs", 30,
        "epochs of the linear teacher-temperature warm-up (np.linspace over these epochs)", 0);
    /// <summary><c>dino.student_temp</c>.</summary>
    public static readonly ConfigKey<double> StudentTemp = Key.Float("dino.student_temp", 0.1, "student temperature", 1e-4, 10);
    /// <summary><c>dino.freeze_last_layer</c>.</summary>
    public static readonly ConfigKey<long> FreezeLastLayer = Key.Int("dino.freeze_last_layer", 1,
        "epochs during which the prototype layer gets no update (its gradient is dropped)", 0);
    /// <summary><c>dino.clip_grad</c>.</summary>
    public static readonly ConfigKey<double> ClipGrad = Key.Float("dino.clip_grad", 3.0,
        "DINO's gradient clipping: every parameter tensor's gradient norm clipped to this on its own (0: off)", 0);
    /// <summary><c>train.base_lr</c>.</summary>
    public static readonly ConfigKey<double> BaseLr = Key.Float("train.base_lr", 5e-4,
        "peak learning rate per 256 samples: the run uses base_lr * batch_size / 256 (DINO's linear scaling rule)", 0, 10);

    /// <summary><c>eval.batch_size</c>.</summary>
    public static readonly ConfigKey<long> EvalBatch = Key.Int("eval.batch_size", 256, "images per feature-extraction batch", 1);
    /// <summary><c>eval.knn_every_epoch</c>.</summary>
    public static readonly ConfigKey<bool> KnnEveryEpoch = Key.Bool("eval.knn_every_epoch", true,
        "20-NN accuracy of the teacher's [CLS] features in every epoch row (off: only at the end)");
    /// <summary><c>eval.linear</c>.</summary>
    public static readonly ConfigKey<bool> Linear = Key.Bool("eval.linear", true, "fit the linear probe at the end (features and raw pixels)");
    /// <summary><c>eval.probe_max_iter</c>.</summary>
    public static readonly ConfigKey<long> ProbeMaxIterations = Key.Int("eval.probe_max_iter", 1000,
        "L-BFGS iterations of each linear-probe fit at most (Core's default 1000)", 1, 100000);
    /// <summary><c>eval.whitebox_samples</c>.</summary>
    public static readonly ConfigKey<long> WhiteBoxSamples = Key.Int("eval.whitebox_samples", 256,
        "test images for the layer-wise R^c and sparsity of the CRATE teacher (0: none)", 0);
    /// <summary><c>eval.attention_images</c>.</summary>
    public static readonly ConfigKey<long> AttentionImages = Key.Int("eval.attention_images", 4,
        "test images whose last-layer [CLS] attention maps (teacher) are saved as PNG strips (0: none)", 0, 256);

    /// <summary>The shared recipe keys, without <c>train.lr</c> (replaced by <see cref="BaseLr"/>).</summary>
    public static IReadOnlyList<ConfigKey> RecipeKeys { get; } = TrainerKeys.All.Where(k => k != TrainerKeys.LearningRate).ToList();

    /// <summary>Every key of the task.</summary>
    public static IReadOnlyList<ConfigKey> All { get; } =
    [
        .. ImageKeys.Data, GlobalSize, LocalSize, LocalCrops, GlobalMinScale, LocalMinScale, LocalMaxScale,
        Size, PatchSize, Channels, Dim, Depth, Heads, Eta, Lambda, MlpRatio,
        OutDim, HiddenDim, BottleneckDim, NormLastLayer, MomentumTeacher, CenterMomentum, WarmupTeacherTemp, TeacherTemp,
        WarmupTeacherTempEpochs, StudentTemp, FreezeLastLayer, ClipGrad, BaseLr,
        EvalBatch, KnnEveryEpoch, Linear, ProbeMaxIterations, ProbeKeys.LowLabel, ProbeKeys.Controls, WhiteBoxSamples, AttentionImages,
        .. RecipeKeys,
    ];
}
