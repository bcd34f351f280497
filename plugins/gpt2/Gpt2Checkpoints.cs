using System.Text.RegularExpressions;
using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Core.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Gpt2;

/// <summary>Thrown when a checkpoint path holds nothing this task can load; the message names the path.</summary>
public sealed class Gpt2CheckpointException(string message) : CheckpointException(message);

/// <summary>
/// Loading a trained model for <c>sample</c>: a run's checkpoint folder (by <see cref="CheckpointStore.ModuleFileOf"/>),
/// one trainer checkpoint folder, or a nanoGPT / CRATE-GPT PyTorch state_dict whose shape is read off the file.
/// </summary>
public static partial class Gpt2Checkpoints
{
    /// <summary>
    /// Builds <paramref name="model"/> and loads <paramref name="checkpoint"/> into it, which is one of:
    /// a run's checkpoint folder (its latest <c>step-*</c>; name <c>checkpoints/best</c> for the best model), one trainer
    /// checkpoint folder (<c>module-0.bin</c>), or a PyTorch <c>.pth</c>/<c>.pt</c>/<c>.safetensors</c>
    /// state_dict with nanoGPT's names (from which the layer count, width, context and vocabulary are
    /// read unless set explicitly; the head count comes from the config). Returns the model on the CPU in
    /// eval mode and the shape it was built with.
    /// </summary>
    public static (nn.Module<Tensor, Tensor> Model, GptConfig Shape) Load(string model, string checkpoint, ResolvedConfig config,
        IReadOnlySet<string> explicitKeys, ILogger logger)
    {
        if (Directory.Exists(checkpoint))
        {
            string modulePath = TrainerModuleFile(checkpoint);
            var shape = Gpt2Keys.ModelConfig(config);
            var built = Gpt2Models.Build(model, shape);
            try { ModuleState.Load(built, modulePath); }
            catch { built.Dispose(); throw; }
            logger.LogInformation("Loaded {Model} from {File}", model, modulePath);
            built.eval();
            return (built, shape);
        }
        if (!File.Exists(checkpoint)) throw new Gpt2CheckpointException($"{checkpoint}: no such checkpoint file or folder");
        var tensors = StateDictFile.Read(checkpoint);
        try
        {
            var stateDict = NanoGptStateDict(tensors);
            var shape = InferShape(stateDict, Gpt2Keys.ModelConfig(config), explicitKeys, checkpoint);
            var built = Gpt2Models.Build(model, shape);
            try
            {
                Checkpoint.Check(built, checkpoint, stateDict.ToDictionary(kv => kv.Key, kv => kv.Value.shape));
                using (no_grad()) built.load_state_dict(stateDict, strict: true);
            }
            catch { built.Dispose(); throw; }
            logger.LogInformation("Loaded {Model} from {File}: {Layers} layers, width {Width}, {Heads} heads, context {Context}, vocabulary {Vocab}",
                model, checkpoint, shape.NLayer, shape.NEmbd, shape.NHead, shape.BlockSize, shape.VocabSize);
            built.eval();
            return (built, shape);
        }
        finally
        {
            foreach (var t in tensors.Values) t.Dispose();
        }
    }

    /// <summary>
    /// The <c>module-0.bin</c> to load from a run's checkpoint folder (its newest checkpoint) or a single checkpoint
    /// folder (e.g. <c>best/</c>), by <see cref="CheckpointStore.ModuleFileOf"/>.
    /// </summary>
    internal static string TrainerModuleFile(string folder) =>
        CheckpointStore.ModuleFileOf(folder)
        ?? throw new Gpt2CheckpointException($"{folder}: no trainer checkpoint here ({CheckpointStore.ModuleFile(0)} in the folder or in a step-* folder); " +
                                             "give a run's checkpoints folder, one checkpoint folder (e.g. checkpoints/best) or a .pth/.safetensors file");

    /// <summary>
    /// nanoGPT's state_dict in this model's names: <c>_orig_mod.</c> (torch.compile) and <c>module.</c>
    /// (DDP) prefixes stripped; the tied <c>lm_head.weight</c> and the causal-mask buffers <c>attn.bias</c>
    /// / <c>attn.masked_bias</c> dropped (the model ties the head to <c>wte</c> and builds the mask per call).
    /// </summary>
    internal static Dictionary<string, Tensor> NanoGptStateDict(IReadOnlyDictionary<string, Tensor> file)
    {
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (key, value) in file)
        {
            string name = key;
            foreach (var prefix in new[] { "_orig_mod.", "module." })
                if (name.StartsWith(prefix, StringComparison.Ordinal)) name = name[prefix.Length..];
            if (name == "lm_head.weight" || MaskBuffer().IsMatch(name)) continue;
            result[name] = value;
        }
        return result;
    }

    /// <summary>
    /// The shape of a state_dict: vocabulary and width from <c>transformer.wte.weight</c>, context from
    /// <c>transformer.wpe.weight</c>, layers from the highest <c>transformer.h.{i}</c>. A key the user set
    /// explicitly keeps its value (a disagreeing file is then reported by the strict load); heads, dropout,
    /// bias, η and λ come from <paramref name="configured"/>.
    /// </summary>
    internal static GptConfig InferShape(IReadOnlyDictionary<string, Tensor> stateDict, GptConfig configured,
        IReadOnlySet<string> explicitKeys, string path)
    {
        long[] Shape(string key) => stateDict.TryGetValue(key, out var t) ? t.shape
            : throw new Gpt2CheckpointException($"{path}: no '{key}'; not a nanoGPT / CRATE-GPT state_dict");
        var wte = Shape("transformer.wte.weight");                   // [V, d]
        var wpe = Shape("transformer.wpe.weight");                   // [T, d]
        int layers = stateDict.Keys.Select(k => LayerKey().Match(k)).Where(m => m.Success)
            .Select(m => int.Parse(m.Groups[1].Value) + 1).DefaultIfEmpty(0).Max();
        if (layers == 0) throw new Gpt2CheckpointException($"{path}: no 'transformer.h.{{i}}' blocks; not a nanoGPT / CRATE-GPT state_dict");
        int Pick(string key, int configuredValue, long fromFile) => explicitKeys.Contains(key) ? configuredValue : checked((int)fromFile);
        var shape = configured with
        {
            VocabSize = Pick(Gpt2Keys.VocabSize.Name, configured.VocabSize, wte[0]),
            NEmbd = Pick(Gpt2Keys.NEmbd.Name, configured.NEmbd, wte[1]),
            BlockSize = Pick(Gpt2Keys.BlockSize.Name, configured.BlockSize, wpe[0]),
            NLayer = Pick(Gpt2Keys.NLayer.Name, configured.NLayer, layers),
        };
        if (shape.VocabSize < Gpt2Tokenizer.VocabularySize)
            throw new Gpt2CheckpointException($"{path}: {shape.VocabSize} embedding rows, fewer than GPT-2's {Gpt2Tokenizer.VocabularySize} ids");
        if (shape.NEmbd % shape.NHead != 0)
            throw new ConfigException($"config key 'model.n_head': {shape.NHead} heads do not divide the checkpoint's width {shape.NEmbd}; pass --set model.n_head=K");
        return shape;
    }

    [GeneratedRegex(@"^transformer\.h\.(\d+)\.")]
    private static partial Regex LayerKey();

    [GeneratedRegex(@"\.attn\.(bias|masked_bias)$")]
    private static partial Regex MaskBuffer();
}
