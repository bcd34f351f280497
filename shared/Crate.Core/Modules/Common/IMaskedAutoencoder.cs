using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>What a masked-autoencoding step returns: the scalar loss and the predicted pixel patches [B, N, P·P·C].</summary>
public sealed record MaeOutput(Tensor Loss, Tensor Prediction);

/// <summary>
/// A masked autoencoder (CRATE-MAE or MAE, docs/paper.md §3c) as the task and the probes use it: the masked
/// forward pass with its loss, and the encoder alone on an unmasked image.
/// </summary>
public interface IMaskedAutoencoder
{
    /// <summary>The shape.</summary>
    MaeConfig Config { get; }

    /// <summary>Encoder output (after the final norm) for <paramref name="images"/> [B, C, H, W] masked by <paramref name="mask"/>, the decoder's input.</summary>
    Tensor EncodeMasked(Tensor images, MaeMask mask);

    /// <summary>Predicted pixel patches [B, N, P·P·C] from the encoder output of <see cref="EncodeMasked"/>, [CLS] dropped.</summary>
    Tensor Decode(Tensor latent, MaeMask mask);

    /// <summary>The encoder on the whole, unmasked image: tokens [B, N + 1, d] after the final norm, [CLS] first.</summary>
    Tensor Encode(Tensor images);

    /// <summary>The encoder's submodules under their state_dict names (patch_embed, blocks, norm), for a fine-tuning classifier.</summary>
    IReadOnlyList<(string Name, nn.Module Module)> EncoderModules { get; }

    /// <summary>The encoder's own tensors (cls_token, and the frozen position table as <c>pos_embed</c>).</summary>
    IReadOnlyList<(string Name, Parameter Parameter)> EncoderParameters { get; }
}

/// <summary>Forward pass and loss shared by both masked autoencoders.</summary>
public static class MaskedAutoencoder
{
    /// <summary>Encode with the mask, decode, and the loss on the removed patches.</summary>
    public static MaeOutput Forward(this IMaskedAutoencoder model, Tensor images, MaeMask mask)
    {
        using var scope = NewDisposeScope();
        var latent = model.EncodeMasked(images, mask);                                   // [B, n, d]
        var prediction = model.Decode(latent, mask);                                     // [B, N, P·P·C]
        var loss = Loss(images, prediction, mask.Mask, model.Config.PatchSize, model.Config.NormPixLoss);
        return new MaeOutput(loss.MoveToOuterDisposeScope(), prediction.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// <c>forward_loss</c>: targets are the patches of <paramref name="images"/> (row, column, channel; channel
    /// fastest), with <paramref name="normPix"/> each normalised by its own mean and unbiased variance (+1e-6);
    /// the squared error is averaged over each patch's values, then over the removed patches (mask = 1).
    /// </summary>
    public static Tensor Loss(Tensor images, Tensor prediction, Tensor mask, int patchSize, bool normPix)
    {
        using var scope = NewDisposeScope();
        var target = Patchify.Apply(images, patchSize);                                  // [B, N, P·P·C]
        if (normPix)
        {
            var mean = target.mean([-1], keepdim: true);                                 // [B, N, 1]
            var variance = target.var(-1, unbiased: true, keepdim: true);                 // [B, N, 1]
            target = (target - mean) / (variance + 1e-6).sqrt();
        }
        var perPatch = (prediction - target).pow(2).mean([-1]);                          // [B, N]
        return ((perPatch * mask).sum() / mask.sum()).MoveToOuterDisposeScope();
    }

    /// <summary>Sets masked patches of <paramref name="x"/> [B, N, d] to <paramref name="maskToken"/> [1, 1, d] (mask [B, N], 1 = removed).</summary>
    internal static Tensor FillMasked(Tensor x, Tensor mask, Tensor maskToken) =>
        where(mask.unsqueeze(-1).gt(0.5), maskToken.expand_as(x), x);                  // [B, N, d]

    /// <summary>Every Linear: xavier-uniform weight, zero bias (the references' <c>_init_weights</c>).</summary>
    internal static void XavierLinears(nn.Module module)
    {
        using var _ = no_grad();
        foreach (var (_, child) in module.named_modules())
            if (child is Linear linear)
            {
                nn.init.xavier_uniform_(linear.weight!);
                if (linear.bias is not null) nn.init.zeros_(linear.bias);
            }
    }

    /// <summary>The Conv2d stem initialised like a Linear over its flattened kernel (xavier-uniform of [d, C·P·P]).</summary>
    internal static void XavierStem(VisionTransformer.PatchStem stem)
    {
        using var _ = no_grad();
        var w = stem.proj.weight!;
        nn.init.xavier_uniform_(w.view(w.shape[0], -1));
    }
}
