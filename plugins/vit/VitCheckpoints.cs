using TorchSharp;
using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Interop;
using Crate.Core.Training;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>
/// The weights <c>evaluate</c> reads: a trainer checkpoint (a run's <c>checkpoints/</c> folder, one
/// <c>step-*</c> folder, <c>best/</c>, or a <c>module-0.bin</c> itself: <see cref="ModuleState"/> format), or a
/// PyTorch state_dict (<c>.pth</c>/<c>.pt</c>/<c>.bin</c> from torch.save, or <c>.safetensors</c>) with the
/// reference implementation's names. <see cref="Shapes"/> maps every tensor name to its shape.
/// </summary>
public sealed record CheckpointFile(string WeightsPath, bool IsTrainerState, IReadOnlyDictionary<string, long[]> Shapes)
{
    private const string ModuleStateMagic = "crate-module-state";

    /// <summary>Finds the weights behind <paramref name="path"/> and reads their names and shapes.</summary>
    public static CheckpointFile Open(string path)
    {
        if (Directory.Exists(path))
        {
            string module = CheckpointStore.ModuleFileOf(path)
                ?? throw new CheckpointFormatException(path, $"checkpoint folder without {CheckpointStore.ModuleFile(0)} and without a complete step-* checkpoint");
            return new CheckpointFile(module, true, ReadModuleState(module));
        }
        if (!File.Exists(path)) throw new CheckpointFormatException(path, "file not found.");
        return IsModuleState(path)
            ? new CheckpointFile(path, true, ReadModuleState(path))
            : new CheckpointFile(path, false, StateDictFile.ReadShapes(path));
    }

    /// <summary>A description for the notes.</summary>
    public string Kind => IsTrainerState ? "trainer checkpoint (ModuleState)" : $"PyTorch state_dict ({StateDictFile.FormatOf(WeightsPath)})";

    /// <summary>Loads the weights into <paramref name="module"/>; names and shapes must match exactly.</summary>
    public void LoadInto(nn.Module module)
    {
        if (IsTrainerState) ModuleState.Load(module, WeightsPath);
        else Checkpoint.Load(module, WeightsPath);
    }

    private static Dictionary<string, long[]> ReadModuleState(string path)
    {
        try { return ModuleState.ReadShapes(path); }
        catch (Exception e) when (e is EndOfStreamException or InvalidDataException or IOException)
        {
            throw new CheckpointFormatException(path, $"cannot read the trainer checkpoint ({e.Message})", e);
        }
    }

    /// <summary>BinaryWriter's length-prefixed magic string that <see cref="ModuleState.Save"/> writes first.</summary>
    private static bool IsModuleState(string path)
    {
        Span<byte> head = stackalloc byte[1 + ModuleStateMagic.Length];
        using var stream = File.OpenRead(path);
        return stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) == head.Length && head[0] == ModuleStateMagic.Length
               && System.Text.Encoding.ASCII.GetString(head[1..]) == ModuleStateMagic;
    }
}

/// <summary><c>evaluate</c> for the vit task: a run's checkpoint or a reference state_dict on the test split.</summary>
public static class VitCheckpoints
{
    /// <summary>
    /// Evaluates a checkpoint (ours, or a reference state_dict whose shape is read off the file, <see cref="CheckpointShapes"/>)
    /// on the test split of the configured dataset: top-1/top-5 and loss, with notes on where every shape key came from.
    /// </summary>
    public static EvaluationResult Evaluate(CheckpointRequest request)
    {
        var config = request.Config;
        var file = CheckpointFile.Open(request.CheckpointPath);
        var resolved = CheckpointShapes.Resolve(request.Model, request.CheckpointPath, file.Shapes, config, request.ExplicitKeys);
        var shape = resolved.Shape;
        string dataset = config.Get(ImageKeys.Dataset);
        string dataDir = request.DataDirectory(dataset);
        var data = ImageTaskData.Load(config, dataDir, shape.Channels, shape.ImageSize, shape.NumClasses, loadTrain: false);

        torch.manual_seed(0);
        using var model = shape.Build(request.Model, config);
        file.LoadInto(model);
        var device = Devices.Resolve(request.Device);
        model.to(device);
        var metrics = new VitEvaluation(data.Test, data.TestPipeline, config.GetInt(VitKeys.EvalBatch), config.GetInt(ImageKeys.Workers),
                config.Get(ImageKeys.Prefetch))
            .Evaluate(model, device, request.Cancellation);
        metrics["accuracy"] = metrics["top1"];

        var notes = new List<string> { $"{request.Model} ({shape}) from the {file.Kind} {file.WeightsPath}" };
        notes.AddRange(resolved.Notes);
        notes.Add($"Test split: {data.Test.Name}, {data.Test.Count} images from {dataDir}; accuracy and top1/top5 in %.");
        return new EvaluationResult(metrics, notes);
    }
}
