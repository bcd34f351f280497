using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.Utils;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The CRATE classifier's stem f^pre (docs/paper.md §1.3): patchify (channel fastest), then
/// LayerNorm(P·P·C) → Linear(P·P·C → d) → LayerNorm(d). State_dict names as the reference's
/// <c>to_patch_embedding</c> Sequential: <c>1.*</c> (LN), <c>2.*</c> (Linear), <c>3.*</c> (LN); index 0 is
/// the parameter-free rearrangement.
/// </summary>
public sealed class PatchEmbedding : nn.Module<Tensor, Tensor>
{
    [ComponentName(Name = "0")]
    private readonly Patchify patchify;
    [ComponentName(Name = "1")]
    private readonly LayerNorm patchNorm;
    [ComponentName(Name = "2")]
    private readonly Linear proj;
    [ComponentName(Name = "3")]
    private readonly LayerNorm outNorm;

    /// <summary>Stem for <paramref name="channels"/>-channel images, patch side <paramref name="patchSize"/>, width <paramref name="dim"/>.</summary>
    public PatchEmbedding(int patchSize, int channels, long dim) : base(nameof(PatchEmbedding))
    {
        long patchDim = (long)patchSize * patchSize * channels;
        patchify = new Patchify(patchSize);
        patchNorm = nn.LayerNorm(patchDim);
        proj = nn.Linear(patchDim, dim);
        outNorm = nn.LayerNorm(dim);
        RegisterComponents();
    }

    /// <summary>Images [B, C, H, W] → patch tokens [B, N, d].</summary>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = patchify.forward(images);                        // [B, N, P·P·C]
        x = outNorm.forward(proj.forward(patchNorm.forward(x))); // [B, N, d]
        return x.MoveToOuterDisposeScope();
    }
}
