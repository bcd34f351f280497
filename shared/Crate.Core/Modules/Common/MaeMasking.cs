using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// MAE's per-sample random masking (<c>random_masking</c> in models_mae.py, docs/paper.md §3c): the N patches
/// are ordered by ascending noise, the first <see cref="KeepCount"/> are kept. <see cref="Keep"/> [B, k] holds
/// the kept patch indices in that order, <see cref="Restore"/> [B, N] the inverse permutation and
/// <see cref="Mask"/> [B, N] is 1 for a removed patch and 0 for a kept one (float32), in patch order.
/// Passing the noise in makes the mask reproducible across implementations.
/// </summary>
public sealed class MaeMask : IDisposable
{
    private MaeMask(Tensor keep, Tensor restore, Tensor mask)
    {
        Keep = keep;
        Restore = restore;
        Mask = mask;
    }

    /// <summary>Kept patch indices [B, k] (int64), in ascending-noise order.</summary>
    public Tensor Keep { get; }

    /// <summary>ids_restore [B, N] (int64): position of each patch in the shuffled order.</summary>
    public Tensor Restore { get; }

    /// <summary>1 = removed, 0 = kept, [B, N] float32.</summary>
    public Tensor Mask { get; }

    /// <summary>Patches kept per sample.</summary>
    public long KeepCount => Keep.shape[1];

    /// <summary>⌊N·(1 − ratio)⌋ as the reference computes it (<c>int(L * (1 - mask_ratio))</c>).</summary>
    public static int KeepFor(int patches, double ratio) => (int)(patches * (1 - ratio));

    /// <summary>The mask of noise [B, N] keeping <paramref name="keep"/> patches per sample (tensors owned by the mask, outside any scope).</summary>
    public static MaeMask FromNoise(Tensor noise, int keep)
    {
        using var scope = NewDisposeScope();
        long b = noise.shape[0], n = noise.shape[1];
        if (keep < 0 || keep > n)
            throw new ArgumentOutOfRangeException(nameof(keep), keep, $"must keep between 0 and {n} patches");
        var shuffle = noise.argsort(1);                                    // [B, N] ascending: small is keep
        var restore = shuffle.argsort(1);                                  // [B, N]
        var kept = shuffle.narrow(1, 0, keep).contiguous();                // [B, k]
        var mask = ones(b, n, dtype: ScalarType.Float32, device: noise.device);
        mask.narrow(1, 0, keep).zero_();                                   // shuffled order: the first k kept
        mask = mask.gather(1, restore);                                    // [B, N] patch order
        return new MaeMask(kept.DetachFromDisposeScope(), restore.DetachFromDisposeScope(), mask.DetachFromDisposeScope());
    }

    /// <summary>Uniform noise [B, N] from <paramref name="generator"/> (or the global generator), then <see cref="FromNoise"/>.</summary>
    public static MaeMask Random(long batch, int patches, double ratio, Device device, Generator? generator = null)
    {
        using var scope = NewDisposeScope();
        var noise = rand(batch, patches, generator: generator, device: device);   // [B, N]
        return FromNoise(noise, KeepFor(patches, ratio));
    }

    /// <summary>No patch removed (identity order), for an unmasked pass through the masked path.</summary>
    public static MaeMask None(long batch, int patches, Device device)
    {
        using var scope = NewDisposeScope();
        var noise = arange(patches, dtype: ScalarType.Float32, device: device).unsqueeze(0).expand(batch, patches).contiguous();   // [B, N]
        return FromNoise(noise, patches);
    }

    /// <summary>Disposes the three tensors.</summary>
    public void Dispose()
    {
        Keep.Dispose();
        Restore.Dispose();
        Mask.Dispose();
    }
}
