using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// What the white-box measurements (docs/paper.md §4) need from one CRATE layer, whichever variant
/// (vision, GPT, BERT): the shared projection of the layer's pre-normed input and the layer itself.
/// </summary>
public interface ICrateLayer
{
    /// <summary>Number of heads (subspaces) K.</summary>
    int Heads { get; }

    /// <summary>U·LN₁(Z^ℓ): the shared MSSA projection of the layer input, [B, n, d] → [B, n, K·p].</summary>
    Tensor Project(Tensor z);

    /// <summary>The whole layer Z^ℓ → Z^{ℓ+1} = ISTA(LN₂(Z^ℓ + MSSA(LN₁(Z^ℓ)))), [B, n, d] → [B, n, d].</summary>
    Tensor forward(Tensor z);
}
