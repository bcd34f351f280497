using static TorchSharp.torch;

namespace Crate.Core.Evaluation;

/// <summary>How token features [B, n, D] become one vector per sample.</summary>
public enum Pooling
{
    /// <summary>Token 0 (the [CLS] token).</summary>
    Cls,

    /// <summary>Mean over the tokens, leaving out padding where a key-padding mask is given.</summary>
    Mean,
}

/// <summary>
/// One batch for feature extraction: <see cref="Inputs"/> as the encoder takes them (images [B, C, H, W],
/// token ids [B, n]), <see cref="Labels"/> [B] and, for text, an optional key-padding mask [B, n]
/// (bool, or 0/1: true / 1 = padding, PyTorch's key_padding_mask convention as in the BERT layers).
/// Tensors the batch getter creates are disposed after the batch (the extractor opens a dispose scope
/// around each batch, getter call included).
/// </summary>
public sealed record ProbeBatch(Tensor Inputs, Tensor Labels, Tensor? PaddingMask = null);
