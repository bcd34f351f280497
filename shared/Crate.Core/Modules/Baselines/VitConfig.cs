namespace Crate.Core.Modules;

/// <summary>
/// Hyper-parameters of the ViT baseline (timm VisionTransformer as the reference's <c>model/vit.py</c>
/// builds it, docs/paper.md §2): qkv bias, MLP ratio 4, GELU, pre-norm, LayerNorm eps 1e-6.
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
