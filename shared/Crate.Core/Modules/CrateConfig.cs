namespace Crate.Core.Modules;

/// <summary>How a classifier pools its token sequence before the head.</summary>
public enum Pooling
{
    /// <summary>Token 0 ([CLS]), the reference default.</summary>
    Cls,
    /// <summary>Mean over all tokens, [CLS] included (the reference's <c>pool='mean'</c>).</summary>
    Mean,
}

/// <summary>
/// Hyper-parameters of the CRATE classifier (crate-paper.md §1.2-1.4, §2). Square images of side
/// <see cref="ImageSize"/>; <see cref="DimHead"/> defaults to <see cref="Dim"/>/<see cref="Heads"/>.
/// </summary>
public sealed record CrateConfig(
    int Dim,
    int Depth,
    int Heads,
    int ImageSize,
    int PatchSize,
    int Channels = 3,
    int NumClasses = 1000,
    int? DimHead = null,
    Pooling Pool = Pooling.Cls,
    double IstaStep = 0.1,
    double IstaLambda = 0.1,
    double Dropout = 0.0,
    double EmbDropout = 0.0,
    bool Fast = true)
{
    /// <summary>Head width p.</summary>
    public int HeadDim => DimHead ?? Dim / Heads;

    /// <summary>Number of patch tokens N.</summary>
    public int NumPatches => (ImageSize / PatchSize) * (ImageSize / PatchSize);

    /// <summary>Length of one flattened patch, P·P·C.</summary>
    public int PatchDim => PatchSize * PatchSize * Channels;

    /// <summary>
    /// Parameter count by the formula of crate-paper.md §1.4 (generalised to K·p ≠ d):
    /// L·(4d + d·Kp + Kp·d + d + d²) + [2·P²C + P²C·d + d + 2d] + (N+1)·d + d + [2d + d·C + C].
    /// </summary>
    public long ParameterCount()
    {
        long d = Dim, inner = (long)Heads * HeadDim, pd = PatchDim, c = NumClasses;
        bool projectOut = !(Heads == 1 && HeadDim == Dim);
        long perLayer = 2 * d + d * inner + (projectOut ? inner * d + d : 0) + 2 * d + d * d;
        long stem = 2 * pd + pd * d + d + 2 * d;
        return Depth * perLayer + stem + (NumPatches + 1L) * d + d + (2 * d + d * c + c);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        if (Dim <= 0 || Depth <= 0 || Heads <= 0 || HeadDim <= 0 || PatchSize <= 0 || Channels <= 0 || NumClasses <= 0)
            throw new ArgumentException($"CRATE config has a non-positive size: {this}.");
        if (DimHead is null && Dim % Heads != 0)
            throw new ArgumentException($"CRATE dim {Dim} is not divisible by {Heads} heads; give DimHead.");
        if (ImageSize % PatchSize != 0)
            throw new ArgumentException($"CRATE image size {ImageSize} is not divisible by patch size {PatchSize}.");
    }
}

/// <summary>
/// Hyper-parameters of the ViT baseline (timm VisionTransformer as the reference's <c>model/vit.py</c>
/// builds it, crate-paper.md §2): qkv bias, MLP ratio 4, GELU, pre-norm, LayerNorm eps 1e-6.
/// <see cref="GlobalPool"/>: mean over patch tokens excluding [CLS] then <c>fc_norm</c> (as main.py);
/// otherwise final <c>norm</c> and token 0. <see cref="FcNormTwice"/>: the reference applies
/// <c>fc_norm</c> in forward_features and again in forward_head (pitfall 6.9); true reproduces it.
/// </summary>
public sealed record VitConfig(
    int Dim,
    int Depth,
    int Heads,
    int ImageSize,
    int PatchSize,
    int Channels = 3,
    int NumClasses = 1000,
    double MlpRatio = 4.0,
    bool QkvBias = true,
    bool GlobalPool = true,
    bool FcNormTwice = true,
    double Dropout = 0.0,
    bool Fast = true)
{
    /// <summary>Number of patch tokens N.</summary>
    public int NumPatches => (ImageSize / PatchSize) * (ImageSize / PatchSize);

    /// <summary>Hidden width of the MLP.</summary>
    public int MlpHidden => (int)(Dim * MlpRatio);

    /// <summary>
    /// Parameter count: conv stem C·P²·d + d, [CLS] d, positions (N+1)·d, per block
    /// 4d + (3d² + 3d·qkvBias) + (d² + d) + 2·(d·h) + h + d, final norm 2d, head d·C + C.
    /// </summary>
    public long ParameterCount()
    {
        long d = Dim, h = MlpHidden, c = NumClasses;
        long perBlock = 4 * d + 3 * d * d + (QkvBias ? 3 * d : 0) + d * d + d + d * h + h + h * d + d;
        return (long)Channels * PatchSize * PatchSize * d + d + d + (NumPatches + 1L) * d
            + Depth * perBlock + 2 * d + d * c + c;
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        if (Dim <= 0 || Depth <= 0 || Heads <= 0 || PatchSize <= 0 || Channels <= 0 || NumClasses <= 0)
            throw new ArgumentException($"ViT config has a non-positive size: {this}.");
        if (Dim % Heads != 0)
            throw new ArgumentException($"ViT dim {Dim} is not divisible by {Heads} heads.");
        if (ImageSize % PatchSize != 0)
            throw new ArgumentException($"ViT image size {ImageSize} is not divisible by patch size {PatchSize}.");
    }
}

/// <summary>
/// Hyper-parameters shared by nanoGPT's GPT-2 and CRATE-GPT (crate-paper.md §3f): context
/// <see cref="BlockSize"/>, vocabulary padded to 50,304, L layers, K heads, width d.
/// <see cref="Bias"/> applies to GPT-2's Linears and LayerNorms (CRATE-GPT's are fixed as its reference).
/// </summary>
public sealed record GptConfig(
    int BlockSize = 1024,
    int VocabSize = 50304,
    int NLayer = 12,
    int NHead = 12,
    int NEmbd = 768,
    double Dropout = 0.0,
    bool Bias = true,
    double IstaStep = 0.1,
    double IstaLambda = 0.1,
    bool Fast = true)
{
    /// <summary>GPT-2 parameters (wte tied to lm_head, counted once; wpe included): V·d + T·d + L·(12d² + 13d) + 2d (with biases).</summary>
    public long Gpt2ParameterCount()
    {
        long d = NEmbd, b = Bias ? 1 : 0;
        long perBlock = (d + b * d) + (3 * d * d + b * 3 * d) + (d * d + b * d) + (d + b * d)
            + (4 * d * d + b * 4 * d) + (4 * d * d + b * d);
        return (long)VocabSize * d + (long)BlockSize * d + NLayer * perBlock + (d + b * d);
    }

    /// <summary>CRATE-GPT parameters (wte tied, counted once; wpe included; no ln_f): V·d + T·d + L·(3d² + 5d).</summary>
    public long CrateGptParameterCount()
    {
        long d = NEmbd;
        return (long)VocabSize * d + (long)BlockSize * d + NLayer * (3 * d * d + 5 * d);
    }

    /// <summary>Throws <see cref="ArgumentException"/> naming the first inconsistent value.</summary>
    public void Validate()
    {
        if (BlockSize <= 0 || VocabSize <= 0 || NLayer <= 0 || NHead <= 0 || NEmbd <= 0)
            throw new ArgumentException($"GPT config has a non-positive size: {this}.");
        if (NEmbd % NHead != 0)
            throw new ArgumentException($"GPT width {NEmbd} is not divisible by {NHead} heads.");
    }
}

/// <summary>
/// Hyper-parameters of one BERT / CRATE-BERT encoder layer (HF names, crate-paper.md §3e).
/// </summary>
public sealed record BertConfig(
    int HiddenSize = 768,
    int NumHeads = 12,
    int IntermediateSize = 3072,
    double LayerNormEps = 1e-12,
    double HiddenDropout = 0.1,
    double AttentionDropout = 0.1,
    double IstaStep = 0.1,
    double IstaLambda = 0.1,
    bool Fast = true)
{
    /// <summary>Head width.</summary>
    public int HeadDim => HiddenSize / NumHeads;
}
