using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Gpt2;

/// <summary>
/// The gpt2 task's training step for the benchmark: the model at the config, the run's <see cref="LanguageModelSpec"/>
/// over uniformly random token windows of the context length (targets: the inputs shifted by one, as a corpus
/// window), and the run's trainer options.
/// </summary>
public sealed partial class Gpt2Task : IStepBenchmark
{
    /// <inheritdoc />
    public StepBenchmark CreateStepBenchmark(string model, ResolvedConfig config)
    {
        var shape = Gpt2Keys.ModelConfig(config);
        var options = TrainerOptions.FromConfig(config);
        options.Validate();
        int micro = options.EffectiveMicroBatch, t = shape.BlockSize;
        torch.manual_seed(TrainingSeeds.From(0).Init);
        var network = Gpt2Models.Build(model, shape);
        var batches = new SyntheticBatches<LmBatch>(micro, (g, device) =>
        {
            var window = randint(0, shape.VocabSize, [micro, t + 1], generator: g);                            // [B, T + 1]
            return new LmBatch(window[.., ..t].contiguous().to(device), window[.., 1..].contiguous().to(device));  // [B, T], [B, T]
        });
        var spec = LanguageModelSpec(network, batches, evaluate: null);
        int d = shape.NEmbd;
        var gemms = new List<GemmShape>();
        gemms.AddRange(model == Gpt2Models.Crate
            ? BlockGemms.CrateLayers("", shape.NLayer, micro, t, d, shape.NHead, d / shape.NHead, shape.Fast)
            : BlockGemms.TransformerBlocks("", shape.NLayer, micro, t, d, shape.NHead, 4L * d));
        gemms.Add(new("lm_head", (long)micro * t, d, shape.VocabSize));
        string name = model == Gpt2Models.Crate ? "CRATE-GPT" : "GPT-2";
        return StepBenchmark.Create($"{name} L={shape.NLayer} K={shape.NHead} d={d}, context {t}, vocabulary {shape.VocabSize}", spec, options, gemms, [network, batches],
            unit: "tokens", unitsPerSample: t);
    }
}
