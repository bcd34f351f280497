namespace Crate.Core.Modules;

/// <summary>
/// Hyper-parameters of the CRATE classifier (docs/paper.md §1.2-1.4, §2). Square images of side
/// <see cref="ImageSize"/>; the head width <see cref="HeadDim"/> is <see cref="Dim"/>/<see cref="Heads"/> unless
/// set (<c>config with { HeadDim = 64 }</c>, the reference's <c>dim_head</c> when K·p ≠ d). <see cref="Eta"/> and
/// <see cref="Lambda"/> are the ISTA step size η and sparsity weight λ (§1.1, §6.2).
/// </summary>
public sealed record CrateConfig(
    int Dim,
    int Depth,
    int Heads,
    int ImageSize,
    int PatchSize,
    int Channels = 3,
    int NumClasses = 1000,
    Pooling Pool = Pooling.Cls,
    double Eta = 0.1,
    double Lambda = 0.1,
    double Dropout = 0.0,
    double EmbDropout = 0.0,
    bool Fast = true)
{
    private readonly int? _headDim;

    /// <summary>Head width p: <see cref="Dim"/>/<see cref="Heads"/> unless set.</summary>
    public int HeadDim
    {
        get => _headDim ?? Dim / Heads;
        init => _headDim = value;
    }

    /// <summary>Number of patch tokens N.</summary>
    public int NumPatches => (ImageSize / PatchSize) * (ImageSize / PatchSize);

    /// <summary>Length of one flattened patch, P·P·C.</summary>
    public int PatchDim => PatchSize * PatchSize * Channels;

    /// <summary>
    /// Parameter count by the formula of docs/paper.md §1.4 (generalised to K·p ≠ d):
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
        if (_headDim is null && Dim % Heads != 0)
            throw new ArgumentException($"CRATE dim {Dim} is not divisible by {Heads} heads; set HeadDim.");
        if (ImageSize % PatchSize != 0)
            throw new ArgumentException($"CRATE image size {ImageSize} is not divisible by patch size {PatchSize}.");
    }
}
