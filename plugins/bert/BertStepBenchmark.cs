using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Bert;

/// <summary>
/// The bert task's masked-language-model step for the benchmark (the pre-training phase; fine-tuning is a small
/// classifier step): the model at the config on the shipped bert-base-uncased vocabulary (30,522 ids; [PAD] 0,
/// [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103), the run's <see cref="MaskedLmSpec"/> over full sequences of
/// <c>data.max_len</c> ([CLS], uniformly random word ids, [SEP]; no padding) and the run's pre-training options.
/// </summary>
public sealed partial class BertTask : IStepBenchmark
{
    private const int VocabSize = 30522, PadId = 0, UnkId = 100, ClsId = 101, SepId = 102, MaskId = 103, FirstWordId = 999;

    /// <inheritdoc />
    public StepBenchmark CreateStepBenchmark(string model, ResolvedConfig config)
    {
        var shape = BertKeys.ModelConfig(config, model, VocabSize, PadId);
        var options = TrainerOptions.FromConfig(config);
        options.Validate();
        int micro = options.EffectiveMicroBatch, t = config.GetInt(BertKeys.MaxLen);
        double probability = config.Get(BertKeys.MlmProbability);
        var masking = new MlmMasking(MaskId, VocabSize, [PadId, UnkId, ClsId, SepId], probability);
        torch.manual_seed(TrainingSeeds.From(0).Init);
        var network = BertModels.Build(model, shape);
        var batches = new SyntheticBatches<TextBatch>(micro, (g, device) =>
        {
            var ids = randint(FirstWordId, VocabSize, [micro, t], generator: g);   // [B, T]
            ids[.., 0] = ClsId;
            ids[.., t - 1] = SepId;
            return new TextBatch(ids.to(device), zeros([micro, t], ScalarType.Bool, device), null);   // [B, T], [B, T] (no padding)
        });
        var spec = MaskedLmSpec(network, batches, masking, evaluate: null);

        int d = shape.HiddenSize;
        long predicted = (long)Math.Round(probability * micro * (t - 2));   // expected selected positions per micro-batch
        var gemms = new List<GemmShape>();
        gemms.AddRange(model == BertModels.Crate
            ? BlockGemms.CrateLayers("", shape.NumLayers, micro, t, d, shape.NumHeads, d / shape.NumHeads, fast: true)
            : BlockGemms.TransformerBlocks("", shape.NumLayers, micro, t, d, shape.NumHeads, shape.IntermediateSize));
        gemms.Add(new("mlm.dense", predicted, d, d));
        gemms.Add(new("mlm.decoder", predicted, d, VocabSize));
        string name = model == BertModels.Crate ? "CRATE-BERT" : "BERT";
        return StepBenchmark.Create($"{name} L={shape.NumLayers} K={shape.NumHeads} d={d}, sequences of {t}, vocabulary {VocabSize}", spec, options, gemms,
            [(nn.Module)network, batches], unit: "tokens", unitsPerSample: t);
    }
}
