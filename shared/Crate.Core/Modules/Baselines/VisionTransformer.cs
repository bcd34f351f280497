using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The ViT baseline classifier as the reference's <c>model/vit.py</c> builds it on timm
/// (docs/paper.md §2): conv patch stem, [CLS], learned positions, pre-norm blocks, then (global pool)
/// the mean over patch tokens excluding [CLS] → <c>fc_norm</c> (twice, as the reference, unless
/// <see cref="VitConfig.FcNormTwice"/> is off) → <c>head</c>; or (token pool) final <c>norm</c> and token 0.
/// State_dict names are timm's: <c>patch_embed.proj.*</c>, <c>cls_token</c>, <c>pos_embed</c>,
/// <c>blocks.{i}.*</c>, <c>fc_norm.*</c> or <c>norm.*</c>, <c>head.*</c>.
/// Init as timm: Linear trunc-normal(0.02) with zero bias, positions trunc-normal(0.02), [CLS] N(0, 1e-6),
/// conv stem PyTorch default.
/// </summary>
public sealed class VisionTransformer : nn.Module<Tensor, Tensor>
{
    private readonly PatchStem patch_embed;
    private readonly Parameter cls_token;
    private readonly Parameter pos_embed;
    private readonly Dropout pos_drop;
    private readonly ModuleList<VitBlock> blocks;
    private readonly LayerNorm? fc_norm;
    private readonly LayerNorm? norm;
    private readonly Linear head;

    /// <summary>The configuration this model was built from.</summary>
    public VitConfig Config { get; }

    /// <summary>Builds the ViT.</summary>
    public VisionTransformer(VitConfig config) : base(nameof(VisionTransformer))
    {
        config.Validate();
        Config = config;
        patch_embed = new PatchStem(config.Channels, config.Dim, config.PatchSize);
        cls_token = new Parameter(zeros(1, 1, config.Dim));
        pos_embed = new Parameter(zeros(1, config.NumPatches + 1, config.Dim));
        pos_drop = nn.Dropout(config.Dropout);
        blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < config.Depth; i++)
            blocks.Add(new VitBlock(config.Dim, config.Heads, config.MlpHidden, config.QkvBias, config.Dropout, config.Fast));
        if (config.GlobalPool)
            fc_norm = nn.LayerNorm(config.Dim, 1e-6);
        else
            norm = nn.LayerNorm(config.Dim, 1e-6);
        head = nn.Linear(config.Dim, config.NumClasses);
        RegisterComponents();
        InitWeights();
    }

    private void InitWeights()
    {
        using var _ = no_grad();
        ModuleInit.TruncNormal(pos_embed, std: 0.02);
        nn.init.normal_(cls_token, std: 1e-6);
        foreach (var (name, module) in named_modules())
        {
            if (module is Linear linear)
            {
                ModuleInit.TruncNormal(linear.weight!, std: 0.02);
                if (linear.bias is not null)
                    nn.init.zeros_(linear.bias);
            }
        }
    }

    /// <summary>Switches every block between SDPA and the plain attention formula.</summary>
    public bool Fast
    {
        get => blocks.Count == 0 || blocks[0].attn.Fast;
        set { foreach (var block in blocks) block.attn.Fast = value; }
    }

    /// <summary>Images [B, C, H, W] → logits [B, classes]; another input size than the config's gets the position table resized (<see cref="PositionInterpolation"/>).</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return head.forward(Features(images)).MoveToOuterDisposeScope();  // [B, classes]
    }

    /// <summary>
    /// The representation the head reads, images [B, C, H, W] → [B, d]: fc_norm of the patch tokens' mean
    /// (the [CLS] token excluded), or the normed [CLS] token for a model without fc_norm.
    /// </summary>
    public Tensor Features(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images);                              // [B, N, d]
        long b = x.shape[0];
        x = cat([cls_token.expand(b, 1, Config.Dim), x], 1);              // [B, N+1, d]
        var table = PositionInterpolation.Resize(pos_embed,               // resized for another input size (DINO crops)
            images.shape[2] / Config.PatchSize, images.shape[3] / Config.PatchSize);
        x = pos_drop.forward(x + table);                                  // [B, N+1, d]
        foreach (var block in blocks)
            x = block.forward(x);                                         // [B, N+1, d]
        Tensor pooled;
        if (fc_norm is not null)
        {
            pooled = fc_norm.forward(x.narrow(1, 1, x.shape[1] - 1).mean([1]));   // [B, d], [CLS] excluded
            if (Config.FcNormTwice)
                pooled = fc_norm.forward(pooled);                         // the reference's forward_head
        }
        else
            pooled = norm!.forward(x).select(1, 0);                       // [B, d]
        return pooled.MoveToOuterDisposeScope();
    }

    /// <summary>timm's <c>PatchEmbed</c>: Conv2d(C → d, kernel = stride = P), flattened to tokens (<c>proj.*</c>).</summary>
    public sealed class PatchStem : nn.Module<Tensor, Tensor>
    {
        /// <summary>The convolution.</summary>
        public readonly Conv2d proj;

        /// <summary>Stem for <paramref name="channels"/> channels, width <paramref name="dim"/>, patch <paramref name="patchSize"/>.</summary>
        public PatchStem(int channels, long dim, int patchSize) : base(nameof(PatchStem))
        {
            proj = nn.Conv2d(channels, dim, patchSize, stride: patchSize);
            RegisterComponents();
        }

        /// <summary>[B, C, H, W] → [B, N, d].</summary>
        public override Tensor forward(Tensor images)
        {
            using var scope = NewDisposeScope();
            var y = proj.forward(images);                                  // [B, d, H/P, W/P]
            return y.flatten(2).transpose(1, 2).MoveToOuterDisposeScope(); // [B, N, d]
        }
    }
}
