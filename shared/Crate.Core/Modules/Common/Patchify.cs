using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// Cuts images [B, C, H, W] into P×P patches in raster order, each flattened (row, col, channel) with
/// the channel fastest, as the reference's <c>Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)')</c>
/// (docs/paper.md §1.3, pitfall 6.7). No parameters.
/// </summary>
public sealed class Patchify : nn.Module<Tensor, Tensor>
{
    /// <summary>Patch side P.</summary>
    public int PatchSize { get; }

    /// <summary>Patchify with side <paramref name="patchSize"/>.</summary>
    public Patchify(int patchSize) : base(nameof(Patchify)) => PatchSize = patchSize;

    /// <summary>[B, C, H, W] → [B, N, P·P·C], N = (H/P)(W/P).</summary>
    public override Tensor forward(Tensor images) => Apply(images, PatchSize);

    /// <summary>[B, C, H, W] → [B, (H/P)(W/P), P·P·C], channel fastest.</summary>
    public static Tensor Apply(Tensor images, int p)
    {
        if (images.dim() != 4)
            throw new ArgumentException($"Images must be [B, C, H, W], got [{string.Join(", ", images.shape)}].");
        long b = images.shape[0], c = images.shape[1], hh = images.shape[2], ww = images.shape[3];
        if (hh % p != 0 || ww % p != 0)
            throw new ArgumentException($"Image size {hh}x{ww} is not divisible by the patch size {p}.");
        long h = hh / p, w = ww / p;
        return images.reshape(b, c, h, p, w, p)       // [B, C, h, p1, w, p2]
            .permute(0, 2, 4, 3, 5, 1)                // [B, h, w, p1, p2, C]
            .reshape(b, h * w, p * p * c);            // [B, N, P·P·C]
    }

    /// <summary>Inverse of <see cref="Apply"/>: [B, N, P·P·C] → [B, C, H, W] for an h×w patch grid.</summary>
    public static Tensor Unapply(Tensor patches, int p, int channels, long gridH, long gridW)
    {
        long b = patches.shape[0];
        return patches.reshape(b, gridH, gridW, p, p, channels)   // [B, h, w, p1, p2, C]
            .permute(0, 5, 1, 3, 2, 4)                            // [B, C, h, p1, w, p2]
            .reshape(b, channels, gridH * p, gridW * p);          // [B, C, H, W]
    }
}
