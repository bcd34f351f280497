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
