using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// CRATE-MAE as <c>model/crate_ae/crate_ae.py</c> builds it (docs/paper.md §3c, §5, pitfall 6.13): a Conv2d
/// patch stem without LayerNorms, [CLS] and a learned mask token, a frozen 2-D sine-cosine table; the removed
/// patches are replaced by the mask token <em>before</em> the encoder (which sees all N + 1 tokens, in the original
/// order), then the table is added (the reference adds <c>decoder_pos_embed</c>, equal to <c>pos_embed</c>); CRATE
/// encoder layers (η, λ) and a final LayerNorm (eps 1e-6); CRATE-MAE decoder layers of the same width,
/// <c>decoder_norm</c>, <c>decoder_pred</c> to pixel patches, [CLS] dropped. <c>decoder_embed</c> exists (and is
/// counted and saved) but is never applied. State_dict names are the reference's: <c>patch_embed.proj.*</c>,
/// <c>cls_token</c>, <c>pos_embed</c>, <c>blocks.{i}.layers.0.{0,1}.*</c>, <c>norm.*</c>, <c>decoder_embed.*</c>,
/// <c>mask_token</c>, <c>decoder_pos_embed</c>, <c>decoder_blocks.{i}.layers.0.{0,1}.*</c>, <c>decoder_norm.*</c>,
/// <c>decoder_pred.*</c>. Init as the reference: every Linear xavier-uniform with zero bias, the stem xavier over
/// its flattened kernel, [CLS] and mask token N(0, 0.02), the dictionaries D and D̃ kaiming-uniform.
/// </summary>
public sealed class CrateMae : nn.Module, IMaskedAutoencoder
{
    /// <summary>Conv2d stem (<c>patch_embed.proj</c>).</summary>
    public readonly VisionTransformer.PatchStem patch_embed;
    /// <summary>[CLS] [1, 1, d].</summary>
    public readonly Parameter cls_token;
    /// <summary>Frozen sine-cosine table [1, N + 1, d].</summary>
    public readonly Parameter pos_embed;
    /// <summary>Encoder layers.</summary>
    public readonly ModuleList<CrateMaeEncoderBlock> blocks;
    /// <summary>Final encoder LayerNorm (eps 1e-6).</summary>
    public readonly LayerNorm norm;
    /// <summary>Unused in the forward pass, as in the reference (counted and saved).</summary>
    public readonly Linear decoder_embed;
    /// <summary>Mask token [1, 1, d].</summary>
    public readonly Parameter mask_token;
    /// <summary>Frozen sine-cosine table [1, N + 1, d] (added before the encoder).</summary>
    public readonly Parameter decoder_pos_embed;
    /// <summary>Decoder layers.</summary>
    public readonly ModuleList<CrateMaeDecoderLayer> decoder_blocks;
    /// <summary>Decoder LayerNorm (eps 1e-6).</summary>
    public readonly LayerNorm decoder_norm;
    /// <summary>Linear map to pixel patches.</summary>
    public readonly Linear decoder_pred;

    /// <inheritdoc />
    public MaeConfig Config { get; }

    /// <summary>Builds CRATE-MAE (the config must be <see cref="MaeKind.Crate"/>); random init from the global torch generator.</summary>
    public CrateMae(MaeConfig config) : base(nameof(CrateMae))
    {
        if (config.Kind != MaeKind.Crate) throw new ArgumentException("CrateMae needs a MaeKind.Crate config", nameof(config));
        config.Validate();
        Config = config;
        int d = config.Dim;
        patch_embed = new VisionTransformer.PatchStem(config.Channels, d, config.PatchSize);
        cls_token = new Parameter(zeros(1, 1, d));
        pos_embed = new Parameter(SinCosPositions.Table2D(d, config.Grid), requires_grad: false);
        blocks = new ModuleList<CrateMaeEncoderBlock>();
        for (int i = 0; i < config.Depth; i++)
            blocks.Add(new CrateMaeEncoderBlock(d, config.Heads, d / config.Heads, config.Eta, config.Lambda));
        norm = nn.LayerNorm(d, 1e-6);
        decoder_embed = nn.Linear(d, config.DecoderDim);
        mask_token = new Parameter(zeros(1, 1, config.DecoderDim));
        decoder_pos_embed = new Parameter(SinCosPositions.Table2D(config.DecoderDim, config.Grid), requires_grad: false);
        decoder_blocks = new ModuleList<CrateMaeDecoderLayer>();
        for (int i = 0; i < config.DecoderDepth; i++)
            decoder_blocks.Add(new CrateMaeDecoderLayer(config.DecoderDim, config.DecoderHeads, config.DecoderDim / config.DecoderHeads));
        decoder_norm = nn.LayerNorm(config.DecoderDim, 1e-6);
        decoder_pred = nn.Linear(config.DecoderDim, config.PatchValues);
        RegisterComponents();

        MaskedAutoencoder.XavierStem(patch_embed);
        using var _ = no_grad();
        nn.init.normal_(cls_token, std: 0.02);
        nn.init.normal_(mask_token, std: 0.02);
        MaskedAutoencoder.XavierLinears(this);
    }

    /// <summary>The encoder layers, for the white-box measurements.</summary>
    public IReadOnlyList<ICrateLayer> EncoderLayers => blocks.Cast<ICrateLayer>().ToList();

    /// <summary>The decoder layers, for the white-box measurements (R^c of each layer's MSSA input).</summary>
    public IReadOnlyList<ICrateLayer> DecoderLayers => decoder_blocks.Cast<ICrateLayer>().ToList();

    /// <summary>Z^1 of an unmasked image: stem, [CLS] prepended, positions added, [B, N + 1, d] (<c>prepare_tokens</c>).</summary>
    public Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images);                                          // [B, N, d]
        x = cat([cls_token.expand(x.shape[0], 1, Config.Dim), x], 1);                // [B, N + 1, d]
        return (x + decoder_pos_embed).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor EncodeMasked(Tensor images, MaeMask mask)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images);                                          // [B, N, d]
        x = MaskedAutoencoder.FillMasked(x, mask.Mask, mask_token);                   // mask tokens in place, original order
        x = cat([cls_token.expand(x.shape[0], 1, Config.Dim), x], 1);                // [B, N + 1, d]
        x = x + decoder_pos_embed;
        foreach (var block in blocks) x = block.forward(x);                          // [B, N + 1, d]
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Decode(Tensor latent, MaeMask mask)
    {
        using var scope = NewDisposeScope();
        var x = latent;
        foreach (var block in decoder_blocks) x = block.forward(x);                  // [B, N + 1, d]
        x = decoder_pred.forward(decoder_norm.forward(x));                            // [B, N + 1, P·P·C]
        return x.narrow(1, 1, x.shape[1] - 1).MoveToOuterDisposeScope();              // [B, N, P·P·C]
    }

    /// <inheritdoc />
    public Tensor Encode(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = Embed(images);                                                        // [B, N + 1, d]
        foreach (var block in blocks) x = block.forward(x);
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public IReadOnlyList<(string Name, nn.Module Module)> EncoderModules => [("patch_embed", patch_embed), ("blocks", blocks), ("norm", norm)];

    /// <inheritdoc />
    public IReadOnlyList<(string Name, Parameter Parameter)> EncoderParameters => [("cls_token", cls_token), ("pos_embed", decoder_pos_embed)];
}

/// <summary>
/// One CRATE-MAE encoder block, the reference's <c>crate_encoder.Block_CRATE</c>: a single-entry ModuleList
/// <c>layers.0</c> holding a <see cref="CrateLayer"/> (names <c>layers.0.0.*</c> MSSA, <c>layers.0.1.*</c> ISTA).
/// </summary>
public sealed class CrateMaeEncoderBlock : nn.Module<Tensor, Tensor>, ICrateLayer
{
    /// <summary>The reference's <c>layers</c> list (one entry).</summary>
    public readonly ModuleList<CrateLayer> layers;

    /// <summary>A block of width <paramref name="dim"/> with ISTA step <paramref name="eta"/> and threshold <paramref name="lambda"/>.</summary>
    public CrateMaeEncoderBlock(long dim, int heads, int dimHead, double eta, double lambda) : base(nameof(CrateMaeEncoderBlock))
    {
        layers = new ModuleList<CrateLayer>(new CrateLayer(dim, heads, dimHead, eta: eta, lambda: lambda));
        RegisterComponents();
    }

    /// <summary>The CRATE layer inside.</summary>
    public CrateLayer Layer => layers[0];

    /// <inheritdoc />
    public int Heads => Layer.Heads;

    /// <inheritdoc />
    public Tensor Project(Tensor z) => Layer.Project(z);

    /// <inheritdoc />
    public Tensor? ProjectAfterStep(Tensor z) => Layer.ProjectAfterStep(z);

    /// <summary>Z^ℓ [B, n, d] → Z^{ℓ+1} [B, n, d].</summary>
    public override Tensor forward(Tensor z) => Layer.forward(z);
}
