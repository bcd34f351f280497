using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Bert;

/// <summary>
/// <c>evaluate bert</c>: the weights behind a path go into the model, then the held-out MLM metrics and the downstream
/// accuracy are measured. Accepted: a run's checkpoint folder (the newest <c>finetune/</c> checkpoint, else the newest
/// <c>pretrain/</c> one), one checkpoint folder, a trainer <c>module-0.bin</c>, or a Hugging Face-named state_dict
/// (<c>.bin</c>/<c>.pth</c>/<c>.pt</c> from torch.save, or <c>.safetensors</c>) of <c>BertForMaskedLM</c> / the CRATE port.
/// </summary>
public static class BertCheckpoints
{
    private const string ModuleStateMagic = "crate-module-state";

    /// <summary>Where the weights came from, and whether they carried a fine-tuned classification head.</summary>
    public sealed record Loaded(string Path, string Kind, bool HasClassifier);

    /// <summary>Evaluates the request's checkpoint (see the class summary).</summary>
    public static EvaluationResult Evaluate(CheckpointRequest request)
    {
        var c = request.Config;
        var data = BertData.Load(c, request.DataDirectory);
        var tokenizer = data.Tokenizer;
        var shape = BertKeys.ModelConfig(c, request.Model, tokenizer.VocabSize, tokenizer.PadId);
        manual_seed(0);
        var model = BertModels.Build(request.Model, shape);
        using var classifier = new MaskedLmClassifier(model, data.Downstream.ClassNames.Count, shape.HiddenDropout);
        var loaded = LoadInto(request.CheckpointPath, model, classifier);
        var device = Devices.Resolve(request.Device);
        classifier.to(device);
        classifier.eval();
        int batch = c.GetInt(BertKeys.EvalBatch);
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        var notes = new List<string> { $"{request.Model} (L={shape.NumLayers} d={shape.HiddenSize} K={shape.NumHeads}) from the {loaded.Kind} {loaded.Path}" };
        using (no_grad())
        {
            var mlm = BertEvaluation.HeldOut(model, data.Mlm.Validation, MlmMasking.For(tokenizer, c.Get(BertKeys.MlmProbability)), tokenizer.PadId,
                batch, c.Get(BertKeys.EvalSequences), device, request.Cancellation);
            foreach (var kv in mlm) metrics[kv.Key] = kv.Value;
            notes.Add($"MLM on {data.Corpus}: the held-out documents' sequences (fixed masks, seed {BertEvaluation.HeldOutMaskSeed}); mlm_acc in %.");
            if (loaded.HasClassifier)
            {
                var scores = BertEvaluation.Classify(classifier, data.Downstream.Test, data.Downstream.ClassNames.Count, tokenizer.PadId, batch, device, request.Cancellation);
                metrics["downstream_acc"] = scores["accuracy"];
                metrics["downstream_f1"] = scores["macro_f1"];
                metrics["majority_acc"] = scores["majority_acc"];
                notes.Add($"Downstream: {data.Downstream.Name}, {data.Downstream.Test.Name} {data.Downstream.Test.Count} examples, the checkpoint's fine-tuned head.");
            }
        }
        if (!loaded.HasClassifier)
        {
            foreach (var kv in BertEvaluation.FrozenProbes(model, data.Downstream, tokenizer.PadId, batch, device)) metrics[kv.Key] = kv.Value;
            notes.Add($"Downstream: {data.Downstream.Name}; no fine-tuned head in the checkpoint, so linear probe and k-NN on its frozen [CLS]/mean features (cls_*, mean_*).");
        }
        return new EvaluationResult(metrics, notes);
    }

    /// <summary>Loads the weights behind <paramref name="path"/> into <paramref name="model"/> or, with a head, <paramref name="classifier"/>.</summary>
    public static Loaded LoadInto(string path, IMaskedLanguageModel model, MaskedLmClassifier classifier)
    {
        string file = ModuleFile(path);
        if (IsModuleState(file))
        {
            Dictionary<string, long[]> shapes;
            try { shapes = ModuleState.ReadShapes(file); }
            catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
            {
                throw new CheckpointFormatException(file, $"cannot read the trainer checkpoint ({e.Message})", e);
            }
            bool head = shapes.Keys.Any(k => k.StartsWith("classifier.", StringComparison.Ordinal));
            try { ModuleState.Load(head ? classifier : (nn.Module)model, file); }
            catch (InvalidDataException e)
            {
                throw new CheckpointFormatException(file, $"does not fit {model.BaseModelPrefix} at this shape: {e.Message}", e);
            }
            return new Loaded(file, head ? "fine-tuned trainer checkpoint" : "pre-trained trainer checkpoint", head);
        }
        MaskedLmCheckpoint.Load(model, file);
        return new Loaded(file, $"Hugging Face state_dict ({StateDictFile.FormatOf(file)})", false);
    }

    /// <summary>The file to read: <paramref name="path"/> itself, or the module file of the newest checkpoint under a folder.</summary>
    private static string ModuleFile(string path)
    {
        if (File.Exists(path)) return path;
        if (!Directory.Exists(path)) throw new CheckpointFormatException(path, "file or folder not found.");
        string direct = Path.Combine(path, CheckpointStore.ModuleFile(0));
        if (File.Exists(direct)) return direct;
        foreach (var phase in new[] { "finetune", "pretrain" })
            if (CheckpointStore.FindLatest(Path.Combine(path, phase)) is { } latest)
                return Path.Combine(latest, CheckpointStore.ModuleFile(0));
        if (CheckpointStore.FindLatest(path) is { } newest)
            return Path.Combine(newest, CheckpointStore.ModuleFile(0));
        throw new CheckpointFormatException(path, $"no checkpoint in this folder (no {CheckpointStore.ModuleFile(0)}, finetune/ or pretrain/ checkpoints)");
    }

    private static bool IsModuleState(string path)
    {
        Span<byte> head = stackalloc byte[1 + ModuleStateMagic.Length];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head[0] == ModuleStateMagic.Length
               && System.Text.Encoding.ASCII.GetString(head[1..]) == ModuleStateMagic;
    }
}
