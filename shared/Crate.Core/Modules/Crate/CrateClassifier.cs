using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The CRATE image classifier (docs/paper.md §1.2-1.3): f^pre (patch embedding, [CLS] prepended,
/// learned positions added after it), L CRATE layers, pooling ([CLS] or mean over all tokens), head
/// LayerNorm → Linear. State_dict names equal the reference <c>model/crate.py</c>:
/// <c>to_patch_embedding.{1,2,3}.*</c>, <c>pos_embedding</c> [1, N+1, d], <c>cls_token</c> [1, 1, d],
/// <c>transformer.layers.{i}.{0,1}.*</c>, <c>mlp_head.{0,1}.*</c>.
/// </summary>
public sealed class CrateClassifier : nn.Module<Tensor, Tensor>
{
    private readonly PatchEmbedding to_patch_embedding;
    private readonly Parameter pos_embedding;
    private readonly Parameter cls_token;
    private readonly Dropout dropout;
    private readonly CrateEncoder transformer;
    private readonly Sequential mlp_head;

    /// <summary>The configuration this model was built from.</summary>
    public CrateConfig Config { get; }

    /// <summary>Builds the classifier; positions and [CLS] ~ N(0, 1), Linear/LN PyTorch defaults, D kaiming-uniform.</summary>
    public CrateClassifier(CrateConfig config) : base(nameof(CrateClassifier))
    {
        config.Validate();
        Config = config;
        to_patch_embedding = new PatchEmbedding(config.PatchSize, config.Channels, config.Dim);
        pos_embedding = new Parameter(randn(1, config.NumPatches + 1, config.Dim));
        cls_token = new Parameter(randn(1, 1, config.Dim));
        dropout = nn.Dropout(config.EmbDropout);
        transformer = new CrateEncoder(config.Dim, config.Depth, config.Heads, config.HeadDim, config.Dropout,
            config.Eta, config.Lambda, causal: false, fast: config.Fast);
        mlp_head = nn.Sequential(("0", nn.LayerNorm(config.Dim)), ("1", nn.Linear(config.Dim, config.NumClasses)));
        RegisterComponents();
    }

    /// <summary>The encoder (the reference's <c>transformer</c>).</summary>
    public CrateEncoder Encoder => transformer;

    /// <summary>Switches every layer between the fast and the plain formulas.</summary>
    public bool Fast
    {
        get => transformer.Fast;
        set => transformer.Fast = value;
    }

    /// <summary>Images [B, C, H, W] → logits [B, classes].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return Head(transformer.forward(Embed(images))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// f^pre: images [B, C, H, W] → Z^1 [B, N+1, d] ([CLS] first, positions added). Images of another size than
    /// <see cref="CrateConfig.ImageSize"/> get the position table resized bicubically to their patch grid
    /// (<see cref="PositionInterpolation"/>, as DINO and the segmentation notebooks of docs/paper.md §3b).
    /// </summary>
    public Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = to_patch_embedding.forward(images);                    // [B, N, d]
        long b = x.shape[0], n = x.shape[1];
        var cls = cls_token.expand(b, 1, Config.Dim);                  // [B, 1, d]
        x = cat([cls, x], 1);                                          // [B, N+1, d]
        var table = PositionInterpolation.Resize(pos_embedding,        // resized when the input is not ImageSize (DINO crops)
            images.shape[2] / Config.PatchSize, images.shape[3] / Config.PatchSize);
        x = x + table;                                                 // [B, N+1, d]
        return dropout.forward(x).MoveToOuterDisposeScope();
    }

    /// <summary>Pooling and head: Z^{L+1} [B, N+1, d] → logits [B, classes].</summary>
    public Tensor Head(Tensor z)
    {
        using var scope = NewDisposeScope();
        return mlp_head.forward(Pool(z)).MoveToOuterDisposeScope();                  // [B, classes]
    }

    /// <summary>The representation the head reads: Z^{L+1}'s [CLS] token (or the token mean), images [B, C, H, W] → [B, d].</summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        return Pool(transformer.forward(Embed(images))).MoveToOuterDisposeScope();
    }

    private Tensor Pool(Tensor z) => Config.Pool == Pooling.Mean ? z.mean([1]) : z.select(1, 0);   // [B, N+1, d] → [B, d]
}
