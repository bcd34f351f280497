using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// A language model whose logits are <c>linear(Hidden(idx), HeadWeight)</c> without a bias, so that a loss can
/// apply the head itself, chunk by chunk (<see cref="Training.ChunkedCrossEntropy"/>), instead of receiving the
/// full [B, T, V] logits of <c>forward</c>.
/// </summary>
public interface ILinearHeadLanguageModel
{
    /// <summary>Token ids [B, T] (int64) → the head's input [B, T, d] (after the final norm, where there is one).</summary>
    Tensor Hidden(Tensor idx);

    /// <summary>The head weight [V, d] (for a tied head, the token embedding's weight itself).</summary>
    Tensor HeadWeight { get; }

    /// <summary>Compute type of the head's matmuls (<see cref="MixedPrecision"/>): null for float32, bfloat16 under bf16.</summary>
    ScalarType? HeadComputeType => null;
}
