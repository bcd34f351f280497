using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>An encoder layer that takes a key-padding mask: <see cref="BertLayer"/> and <see cref="CrateBertLayer"/>.</summary>
public interface IMaskedEncoderLayer
{
    /// <summary>[B, n, d] → [B, n, d]; <paramref name="keyPadding"/> [B, n] is true where a token is padding (null: none).</summary>
    Tensor forward(Tensor x, Tensor? keyPadding);
}
