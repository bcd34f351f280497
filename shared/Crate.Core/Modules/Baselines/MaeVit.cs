using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The MAE baseline as facebookresearch/mae <c>models_mae.py</c> builds it (docs/paper.md §3c): Conv2d stem,
/// positions (frozen 2-D sine-cosine, zero [CLS] row) added to the patches, random masking, [CLS] (+ its
/// position) prepended, ViT blocks on the visible patches only, final LayerNorm (eps 1e-6); the decoder embeds
/// to its own width (<c>decoder_embed</c>), appends mask tokens, un-shuffles, adds its own table, runs its ViT
/// blocks, <c>decoder_norm</c>, <c>decoder_pred</c>, [CLS] dropped. State_dict names are the reference's
/// (timm Block: <c>blocks.{i}.norm1</c>, <c>attn.qkv</c>, <c>attn.proj</c>, <c>norm2</c>, <c>mlp.fc1</c>, <c>mlp.fc2</c>).
/// Init as the reference: Linear xavier-uniform and zero bias, stem xavier over its flattened kernel,
/// [CLS] and mask token N(0, 0.02).
/// </summary>
public sealed class MaeVit : nn.Module, IMaskedAutoencoder
{
    /// <summary>Conv2d stem (<c>patch_embed.proj</c>).</summary>
    public readonly VisionTransformer.PatchStem patch_embed;
    /// <summary>[CLS] [1, 1, d].</summary>
    public readonly Parameter cls_token;
    /// <summary>Frozen sine-cosine table [1, N + 1, d].</summary>
    public readonly Parameter pos_embed;
    /// <summary>Encoder blocks.</summary>
    public readonly ModuleList<VitBlock> blocks;
    /// <summary>Final encoder LayerNorm (eps 1e-6).</summary>
    public readonly LayerNorm norm;
    /// <summary>Encoder width → decoder width.</summary>
    public readonly Linear decoder_embed;
    /// <summary>Mask token [1, 1, d_dec].</summary>
    public readonly Parameter mask_token;
    /// <summary>Frozen sine-cosine table [1, N + 1, d_dec].</summary>
    public readonly Parameter decoder_pos_embed;
    /// <summary>Decoder blocks.</summary>
    public readonly ModuleList<VitBlock> decoder_blocks;
    /// <summary>Decoder LayerNorm (eps 1e-6).</summary>
    public readonly LayerNorm decoder_norm;
    /// <summary>Linear map to pixel patches.</summary>
    public readonly Linear decoder_pred;

    /// <inheritdoc />
    public MaeConfig Config { get; }

    /// <summary>Builds the MAE (the config must be <see cref="MaeKind.Vit"/>); random init from the global torch generator.</summary>
    public MaeVit(MaeConfig config) : base(nameof(MaeVit))
    {
        if (config.Kind != MaeKind.Vit) throw new ArgumentException("MaeVit needs a MaeKind.Vit config", nameof(config));
        config.Validate();
        Config = config;
        int d = config.Dim, dd = config.DecoderDim;
        patch_embed = new VisionTransformer.PatchStem(config.Channels, d, config.PatchSize);
        cls_token = new Parameter(zeros(1, 1, d));
        pos_embed = new Parameter(SinCosPositions.Table2D(d, config.Grid), requires_grad: false);
        blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < config.Depth; i++)
            blocks.Add(new VitBlock(d, config.Heads, (long)(d * config.MlpRatio), qkvBias: true));
        norm = nn.LayerNorm(d, 1e-6);
        decoder_embed = nn.Linear(d, dd);
        mask_token = new Parameter(zeros(1, 1, dd));
        decoder_pos_embed = new Parameter(SinCosPositions.Table2D(dd, config.Grid), requires_grad: false);
        decoder_blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < config.DecoderDepth; i++)
            decoder_blocks.Add(new VitBlock(dd, config.DecoderHeads, (long)(dd * config.MlpRatio), qkvBias: true));
        decoder_norm = nn.LayerNorm(dd, 1e-6);
        decoder_pred = nn.Linear(dd, config.PatchValues);
        RegisterComponents();

        MaskedAutoencoder.XavierStem(patch_embed);
        using var _ = no_grad();
        nn.init.normal_(cls_token, std: 0.02);
        nn.init.normal_(mask_token, std: 0.02);
        MaskedAutoencoder.XavierLinears(this);
    }

    /// <inheritdoc />
    public Tensor EncodeMasked(Tensor images, MaeMask mask)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images) + pos_embed.narrow(1, 1, Config.NumPatches);   // [B, N, d]
        long b = x.shape[0], d = x.shape[2];
        x = x.gather(1, mask.Keep.unsqueeze(-1).expand(b, mask.KeepCount, d));            // [B, k, d] visible patches
        var cls = (cls_token + pos_embed.narrow(1, 0, 1)).expand(b, 1, d);                 // [B, 1, d]
        x = cat([cls, x], 1);                                                                // [B, k + 1, d]
        foreach (var block in blocks) x = block.forward(x);
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public Tensor Decode(Tensor latent, MaeMask mask)
    {
        using var scope = NewDisposeScope();
        var x = decoder_embed.forward(latent);                                              // [B, k + 1, dd]
        long b = x.shape[0], dd = x.shape[2], n = Config.NumPatches;
        var tokens = mask_token.expand(b, n + 1 - x.shape[1], dd);                          // [B, N − k, dd]
        var shuffled = cat([x.narrow(1, 1, x.shape[1] - 1), tokens], 1);                   // [B, N, dd] in shuffled order
        var restored = shuffled.gather(1, mask.Restore.unsqueeze(-1).expand(b, n, dd));    // [B, N, dd] patch order
        x = cat([x.narrow(1, 0, 1), restored], 1) + decoder_pos_embed;                     // [B, N + 1, dd]
        foreach (var block in decoder_blocks) x = block.forward(x);
        x = decoder_pred.forward(decoder_norm.forward(x));                                  // [B, N + 1, P·P·C]
        return x.narrow(1, 1, n).MoveToOuterDisposeScope();                                 // [B, N, P·P·C]
    }

    /// <inheritdoc />
    public Tensor Encode(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images) + pos_embed.narrow(1, 1, Config.NumPatches);   // [B, N, d]
        long b = x.shape[0], d = x.shape[2];
        x = cat([(cls_token + pos_embed.narrow(1, 0, 1)).expand(b, 1, d), x], 1);          // [B, N + 1, d]
        foreach (var block in blocks) x = block.forward(x);
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public IReadOnlyList<(string Name, nn.Module Module)> EncoderModules => [("patch_embed", patch_embed), ("blocks", blocks), ("norm", norm)];

    /// <inheritdoc />
    public IReadOnlyList<(string Name, Parameter Parameter)> EncoderParameters => [("cls_token", cls_token), ("pos_embed", pos_embed)];
}
