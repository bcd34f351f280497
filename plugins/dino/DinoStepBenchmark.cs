using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Dino;

/// <summary>
/// The dino task's training step for the benchmark: student and teacher (the teacher a copy of the student, as a
/// fresh run starts), the loss with its centre, the run's <see cref="DinoDistillation.Spec"/> (per-tensor clipping
/// and the last layer's freeze before the update, the teacher's EMA and the centre after it) over standard-normal
/// crops of the config's global and local sizes, and the run's options (<see cref="DinoRecipe.Options"/>). The
/// synthetic epoch spans the whole benchmark, so the timed steps are first-epoch steps: with
/// <c>dino.freeze_last_layer</c> ≥ 1 the prototype layer gets no update, as in a run's first epoch.
/// </summary>
public sealed partial class DinoTask : IStepBenchmark
{
    /// <inheritdoc />
    public StepBenchmark CreateStepBenchmark(string model, ResolvedConfig config)
    {
        var shape = DinoShape.From(config, model);
        var recipe = DinoRecipe.From(config);
        var options = DinoRecipe.Options(config);
        options.Validate();
        int micro = options.EffectiveMicroBatch, global = config.GetInt(DinoKeys.GlobalSize), local = config.GetInt(DinoKeys.LocalSize);
        int locals = config.GetInt(DinoKeys.LocalCrops);
        torch.manual_seed(TrainingSeeds.From(0).Init);
        var student = shape.Build(model);
        var teacher = shape.Build(model);
        var loss = new DinoLoss(shape.OutDim, recipe.StudentTemp, recipe.CenterMomentum);
        var distillation = new DinoDistillation(student, teacher, loss, recipe);
        distillation.InitializeTeacher();
        var batches = new SyntheticBatches<ViewBatch>(micro, (g, device) => new ViewBatch(
            Enumerable.Range(0, 2 + locals).Select(v =>
            {
                int size = v < 2 ? global : local;
                return randn([micro, shape.Channels, size, size], generator: g).to(device);                 // [B, C, S, S]
            }).ToList(),
            zeros([micro], ScalarType.Int64, device)));                                                     // [B], unread
        var spec = distillation.Spec(batches, evaluate: null);

        var gemms = new List<GemmShape>();
        void Backbone(string name, long images, int size, bool backward)
        {
            long patches = (long)(size / shape.PatchSize) * (size / shape.PatchSize), tokens = patches + 1;
            gemms.Add(new($"{name}.patch_embed", images * patches, (long)shape.Channels * shape.PatchSize * shape.PatchSize, shape.Dim, Backward: backward));
            gemms.AddRange(model == DinoShape.Crate
                ? BlockGemms.CrateLayers(name + ".", shape.Depth, images, tokens, shape.Dim, shape.Heads, shape.Dim / shape.Heads, fast: true, backward)
                : BlockGemms.TransformerBlocks(name + ".", shape.Depth, images, tokens, shape.Dim, shape.Heads, (long)(shape.Dim * shape.MlpRatio), backward));
            gemms.Add(new($"{name}.head.fc1", images, shape.Dim, shape.HiddenDim, Backward: backward));
            gemms.Add(new($"{name}.head.fc2", images, shape.HiddenDim, shape.HiddenDim, Backward: backward));
            gemms.Add(new($"{name}.head.fc3", images, shape.HiddenDim, shape.BottleneckDim, Backward: backward));
            gemms.Add(new($"{name}.head.last", images, shape.BottleneckDim, shape.OutDim, Backward: backward));
        }
        Backbone("student.global", 2L * micro, global, backward: true);
        if (locals > 0) Backbone("student.local", (long)locals * micro, local, backward: true);
        Backbone("teacher.global", 2L * micro, global, backward: false);
        return StepBenchmark.Create($"DINO {(model == DinoShape.Crate ? "CRATE" : "ViT")} {shape}, 2x{global}px + {locals}x{local}px crops",
            spec, options, gemms, [student, teacher, loss, batches]);
    }
}
