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

    /// <summary>
    /// The same projection as <see cref="Project"/> (the same U and pre-norm) applied to the output of the layer's MSSA
    /// step, so that R^c before and after that one step can be compared through the layer's own subspaces (docs/paper.md
    /// §4 item 4, §5): an encoder layer's step (Z + MSSA) is meant to lower R^c, a CRATE-MAE decoder layer's (Y − MSSA) to
    /// raise it. Null where a layer does not offer it.
    /// </summary>
    Tensor? ProjectAfterStep(Tensor z) => null;
}
