using Crate.Core.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Interop;

/// <summary>
/// Hugging Face state_dicts of the masked LMs (<see cref="BertForMaskedLM"/>, <see cref="CrateBertForMaskedLM"/>):
/// a file written by <c>save_pretrained</c> / <c>torch.save(model.state_dict())</c> holds the tied decoder
/// (<see cref="IMaskedLanguageModel.TiedKeys"/>) and sometimes the <c>position_ids</c> buffer besides our tensors.
/// Loading checks that every tied alias present equals the tensor it stands for (an untied decoder would otherwise be
/// dropped silently), then loads strictly. Saving writes our names only; Hugging Face's <c>from_pretrained</c> re-ties
/// the decoder, and <see cref="Load"/> reads such a file back.
/// </summary>
public static class MaskedLmCheckpoint
{
    /// <summary>Loads <paramref name="path"/> (.bin/.pth/.pt or .safetensors) into <paramref name="model"/>.</summary>
    public static void Load(IMaskedLanguageModel model, string path)
    {
        var tensors = StateDictFile.Read(path);
        try
        {
            string prefix = tensors.Count > 0 && tensors.Keys.All(k => k.StartsWith("module.", StringComparison.Ordinal)) ? "module." : "";
            foreach (var (alias, source) in model.TiedKeys)
            {
                if (!tensors.TryGetValue(prefix + alias, out var copy) || !tensors.TryGetValue(prefix + source, out var original))
                    continue;
                using var scope = NewDisposeScope();
                if (!copy.shape.SequenceEqual(original.shape) || !copy.to(ScalarType.Float64).eq(original.to(ScalarType.Float64)).all().item<bool>())
                    throw new CheckpointFormatException(path, $"'{alias}' is not tied to '{source}' (their values differ); this model ties its MLM decoder to them");
            }
        }
        finally
        {
            foreach (var tensor in tensors.Values) tensor.Dispose();
        }
        Checkpoint.Load((TorchSharp.torch.nn.Module)model, path, [.. model.TiedKeys.Keys, .. MaskedLanguageModels.BufferKeys(model.BaseModelPrefix)]);
    }
}
