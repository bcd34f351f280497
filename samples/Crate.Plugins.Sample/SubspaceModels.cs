using Crate.Core.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Plugins.Sample;

/// <summary>
/// A CRATE encoder over token sets: embed (Linear d_in → d), L CRATE layers, mean pool, LayerNorm, Linear head.
/// </summary>
public sealed class CrateSetClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Linear embed;
    /// <summary>The CRATE layers (white-box measurements read them).</summary>
    public readonly CrateEncoder transformer;
    private readonly LayerNorm norm;
    private readonly Linear head;

    /// <summary>Builds the classifier.</summary>
    public CrateSetClassifier(int inDim, int dim, int depth, int heads, int classes) : base(nameof(CrateSetClassifier))
    {
        embed = nn.Linear(inDim, dim);
        transformer = new CrateEncoder(dim, depth, heads, dim / heads);
        norm = nn.LayerNorm(dim);
        head = nn.Linear(dim, classes);
        RegisterComponents();
    }

    /// <summary>Z¹ = embed(x): the input of the first CRATE layer, [B, n, d].</summary>
    public Tensor Embed(Tensor x) => embed.forward(x);

    /// <summary>[B, n, d_in] → logits [B, classes].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var z = transformer.forward(embed.forward(x));       // [B, n, d]
        return head.forward(norm.forward(z.mean([1]))).MoveToOuterDisposeScope();
    }
}

/// <summary>The baseline: the same embedding and head around pre-norm ViT blocks (MLP ratio 4).</summary>
public sealed class TransformerSetClassifier : nn.Module<Tensor, Tensor>
{
    private readonly Linear embed;
    private readonly ModuleList<VitBlock> blocks;
    private readonly LayerNorm norm;
    private readonly Linear head;

    /// <summary>Builds the classifier.</summary>
    public TransformerSetClassifier(int inDim, int dim, int depth, int heads, int classes) : base(nameof(TransformerSetClassifier))
    {
        embed = nn.Linear(inDim, dim);
        blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < depth; i++) blocks.Add(new VitBlock(dim, heads, 4 * dim));
        norm = nn.LayerNorm(dim);
        head = nn.Linear(dim, classes);
        RegisterComponents();
    }

    /// <summary>[B, n, d_in] → logits [B, classes].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var z = embed.forward(x);                              // [B, n, d]
        foreach (var block in blocks) z = block.forward(z);
        return head.forward(norm.forward(z.mean([1]))).MoveToOuterDisposeScope();
    }
}
