namespace Crate.Core.Modules;

/// <summary>Which masked autoencoder a <see cref="MaeConfig"/> describes.</summary>
public enum MaeKind
{
    /// <summary>CRATE-MAE (<c>model/crate_ae/crate_ae.py</c>): CRATE encoder and decoder layers, mask tokens before the encoder.</summary>
    Crate,

    /// <summary>MAE (<c>facebookresearch/mae</c> models_mae.py): ViT blocks, the encoder sees the visible patches only.</summary>
    Vit,
}

/// <summary>
/// The shape of a masked autoencoder in the reference constructor's terms (<c>MaskedAutoencoderViT(img_size,
/// patch_size, in_chans, embed_dim, depth, num_heads, decoder_embed_dim, decoder_depth, decoder_num_heads,
/// mlp_ratio, norm_pix_loss, lambd)</c>, docs/paper.md §3c). Head widths are width / heads as the references.
/// </summary>
public sealed record MaeConfig(
    MaeKind Kind,
    int Dim,
    int Depth,
    int Heads,
    int DecoderDim,
    int DecoderDepth,
    int DecoderHeads,
    int ImageSize = 224,
    int PatchSize = 16,
    int Channels = 3,
    double MlpRatio = 4.0,
    double Eta = 0.1,
    double Lambda = 0.5,
    bool NormPixLoss = false)
{
    /// <summary>Patches per side.</summary>
    public int Grid => ImageSize / PatchSize;

    /// <summary>Patches N.</summary>
    public int NumPatches => Grid * Grid;

    /// <summary>Values of one pixel patch, P·P·C.</summary>
    public int PatchValues => PatchSize * PatchSize * Channels;

    /// <summary>
    /// Checks what the reference would refuse: the patch must divide the image, widths must split evenly
    /// over heads and be divisible by 4 (the sine-cosine table), and CRATE-MAE's decoder must have the encoder's
    /// width (it takes the encoder output as it is; <c>decoder_embed</c> is never applied). Throws
    /// <see cref="ArgumentException"/> whose ParamName is the offending property.
    /// </summary>
    public void Validate()
    {
        Positive(Dim, nameof(Dim)); Positive(Depth, nameof(Depth)); Positive(Heads, nameof(Heads));
        Positive(DecoderDim, nameof(DecoderDim)); Positive(DecoderDepth, nameof(DecoderDepth)); Positive(DecoderHeads, nameof(DecoderHeads));
        Positive(ImageSize, nameof(ImageSize)); Positive(PatchSize, nameof(PatchSize)); Positive(Channels, nameof(Channels));
        if (ImageSize % PatchSize != 0)
            throw new ArgumentException($"patch size {PatchSize} does not divide image size {ImageSize}", nameof(PatchSize));
        if (Dim % Heads != 0)
            throw new ArgumentException($"{Heads} heads do not divide the width {Dim}", nameof(Heads));
        if (DecoderDim % DecoderHeads != 0)
            throw new ArgumentException($"{DecoderHeads} decoder heads do not divide the decoder width {DecoderDim}", nameof(DecoderHeads));
        if (Dim % 4 != 0)
            throw new ArgumentException($"the width {Dim} is not divisible by 4, which the 2-D sine-cosine position table needs", nameof(Dim));
        if (DecoderDim % 4 != 0)
            throw new ArgumentException($"the decoder width {DecoderDim} is not divisible by 4, which the 2-D sine-cosine position table needs", nameof(DecoderDim));
        if (Kind == MaeKind.Crate && DecoderDim != Dim)
            throw new ArgumentException($"CRATE-MAE's decoder takes the encoder output as it is (decoder_embed is unused), so its width must be the encoder's {Dim}, not {DecoderDim}", nameof(DecoderDim));
        if (Kind == MaeKind.Vit && MlpRatio <= 0)
            throw new ArgumentException($"mlp ratio {MlpRatio} must be positive", nameof(MlpRatio));

        static void Positive(int value, string name)
        {
            if (value <= 0) throw new ArgumentException($"{name} must be positive, got {value}", name);
        }
    }

    /// <summary>
    /// Parameter count by formula, nothing built. <paramref name="everyTensor"/>: every tensor of the state_dict,
    /// the frozen position tables (and CRATE-MAE's unused <c>decoder_embed</c>) included, as the paper counts
    /// (CRATE-MAE-S 25,406,…; B 44,638,…, §3c); otherwise only what the optimiser updates (frozen tables and
    /// the unused <c>decoder_embed</c> left out).
    /// </summary>
    public long ParameterCount(bool everyTensor = true)
    {
        long d = Dim, dd = DecoderDim, n1 = NumPatches + 1, pv = PatchValues;
        long stem = d * pv + d, cls = d, norm = 2 * d, mask = dd, decoderNorm = 2 * dd, pred = dd * pv + pv;
        long decoderEmbed = d * dd + dd, positions = n1 * d + n1 * dd;
        long encoder, decoder;
        if (Kind == MaeKind.Crate)
        {
            encoder = Depth * (2 * d + d * d + d * d + d + 2 * d + d * d);          // LN, U, out map + bias, LN, D
            decoder = DecoderDepth * (2 * dd + dd * dd + 2 * dd + dd * dd + dd * dd + dd);   // LN, D̃, LN, U, out map + bias
        }
        else
        {
            encoder = Depth * VitBlockCount(d, (long)(d * MlpRatio));
            decoder = DecoderDepth * VitBlockCount(dd, (long)(dd * MlpRatio));
        }
        long trainable = stem + cls + norm + mask + decoderNorm + pred + encoder + decoder + (Kind == MaeKind.Vit ? decoderEmbed : 0);
        return everyTensor ? trainable + positions + (Kind == MaeKind.Crate ? decoderEmbed : 0) : trainable;
    }

    private static long VitBlockCount(long d, long hidden) =>
        2 * d + (3 * d * d + 3 * d) + (d * d + d) + 2 * d + (d * hidden + hidden) + (hidden * d + d);

    /// <summary>"dim=… depth=… heads=…, decoder …, image …px patch …" for logs and notes.</summary>
    public override string ToString() =>
        $"dim={Dim} depth={Depth} heads={Heads}, decoder dim={DecoderDim} depth={DecoderDepth} heads={DecoderHeads}, image {ImageSize}px patch {PatchSize}, {Channels} channel(s)" +
        (Kind == MaeKind.Crate ? FormattableString.Invariant($", eta={Eta} lambda={Lambda}") : FormattableString.Invariant($", mlp_ratio={MlpRatio}")) +
        (NormPixLoss ? ", norm_pix_loss" : "");
}
