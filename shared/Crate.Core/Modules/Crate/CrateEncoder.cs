using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The stack f^L ∘ … ∘ f^1 of CRATE layers (docs/paper.md §1.1 network form, §1.2 stacking), the
/// reference's <c>Transformer</c>: state_dict <c>layers.{i}.0.*</c>, <c>layers.{i}.1.*</c>. No final LayerNorm.
/// </summary>
public sealed class CrateEncoder : nn.Module<Tensor, Tensor>
{
    /// <summary>The layers, <c>layers.{i}</c>.</summary>
    public readonly ModuleList<CrateLayer> layers;

    /// <summary>Depth L layers of width <paramref name="dim"/> (see <see cref="CrateLayer"/> for the rest).</summary>
    public CrateEncoder(long dim, int depth, int heads, int headDim, double dropout = 0.0, double eta = 0.1,
        double lambda = 0.1, bool causal = false, bool fast = true) : base(nameof(CrateEncoder))
    {
        layers = new ModuleList<CrateLayer>();
        for (int i = 0; i < depth; i++)
            layers.Add(new CrateLayer(dim, heads, headDim, dropout, eta, lambda, causal, fast));
        RegisterComponents();
    }

    /// <summary>The layers in order, for layer-wise measurements.</summary>
    public IReadOnlyList<CrateLayer> Layers => layers.ToList();

    /// <summary>Switches every layer between the fast and the plain formulas.</summary>
    public bool Fast
    {
        get => layers.Count == 0 || layers[0].Fast;
        set { foreach (var layer in layers) layer.Fast = value; }
    }

    /// <summary>Z^1 [B, n, d] → Z^{L+1} [B, n, d].</summary>
    public override Tensor forward(Tensor z) => forward(z, null);

    /// <summary>As <see cref="forward(Tensor)"/> with a key-padding mask [B, n] (true = padding).</summary>
    public Tensor forward(Tensor z, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        var x = z;
        foreach (var layer in layers)
            x = layer.forward(x, keyPadding);                  // [B, n, d]
        return x.MoveToOuterDisposeScope();
    }
}
