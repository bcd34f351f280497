using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// Fine-tuning of a masked autoencoder's encoder (docs/paper.md §3c): the encoder on the whole, unmasked image
/// (<see cref="IMaskedAutoencoder.Encode"/>), its [CLS] token after the final norm, a linear <c>head</c>. The
/// encoder's modules and tensors are the autoencoder's own (shared, not copied), registered here under the MAE
/// fine-tuning names <c>patch_embed.*</c>, <c>cls_token</c>, <c>pos_embed</c>, <c>blocks.*</c>, <c>norm.*</c>, so
/// the optimiser sees the encoder and the head only and layer-wise decay can read the block index off a name.
/// The head is initialised as MAE's fine-tuning code does: trunc-normal(std 2e-5) weight, zero bias.
/// Dispose only the head (<see cref="DisposeHead"/>); the encoder belongs to the autoencoder.
/// </summary>
public sealed class MaeClassifier : nn.Module<Tensor, Tensor>
{
    private readonly IMaskedAutoencoder _autoencoder;

    /// <summary>Classification head d → classes.</summary>
    public readonly Linear head;

    /// <summary>A classifier on <paramref name="autoencoder"/>'s encoder with <paramref name="classes"/> outputs.</summary>
    public MaeClassifier(IMaskedAutoencoder autoencoder, int classes) : base(nameof(MaeClassifier))
    {
        _autoencoder = autoencoder;
        foreach (var (name, module) in autoencoder.EncoderModules) register_module(name, module);
        foreach (var (name, parameter) in autoencoder.EncoderParameters) register_parameter(name, parameter);
        head = nn.Linear(autoencoder.Config.Dim, classes);
        register_module("head", head);
        using var _ = no_grad();
        ModuleInit.TruncNormal(head.weight!, std: 2e-5);
        nn.init.zeros_(head.bias!);
    }

    /// <summary>Encoder depth (for layer-wise decay).</summary>
    public int Depth => _autoencoder.Config.Depth;

    /// <summary>Images [B, C, H, W] → logits [B, classes].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var tokens = _autoencoder.Encode(images);                                  // [B, N + 1, d]
        return head.forward(tokens.select(1, 0)).MoveToOuterDisposeScope();      // [B, classes]
    }

    /// <summary>
    /// Layer id of a parameter name for layer-wise decay (MAE's <c>get_layer_id_for_vit</c>): 0 for
    /// <c>cls_token</c>, <c>pos_embed</c> and <c>patch_embed.*</c>, i + 1 for <c>blocks.i.*</c>, depth + 1 otherwise.
    /// </summary>
    public static int LayerOf(string name, int depth)
    {
        if (name is "cls_token" or "pos_embed" || name.StartsWith("patch_embed.", StringComparison.Ordinal)) return 0;
        if (name.StartsWith("blocks.", StringComparison.Ordinal))
        {
            int end = name.IndexOf('.', 7);
            return int.Parse(name.AsSpan(7, (end < 0 ? name.Length : end) - 7), System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
        return depth + 1;
    }

    /// <summary>Disposes the head (the encoder is the autoencoder's).</summary>
    public void DisposeHead() => head.Dispose();
}
