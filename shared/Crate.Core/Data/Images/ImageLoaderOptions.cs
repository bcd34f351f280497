namespace Crate.Core.Data.Images;

/// <summary>Settings of an <see cref="ImageBatchLoader"/>.</summary>
public sealed record ImageLoaderOptions
{
    /// <summary>Samples per batch.</summary>
    public required int BatchSize { get; init; }

    /// <summary>Visit the samples in a fresh seeded permutation each epoch (training); false keeps dataset order (evaluation).</summary>
    public bool Shuffle { get; init; } = true;

    /// <summary>Skip the last incomplete batch of each epoch.</summary>
    public bool DropLast { get; init; }

    /// <summary>Seed of the permutations and of every sample's augmentation.</summary>
    public ulong Seed { get; init; }

    /// <summary>Batches prepared ahead (bounded queue between the loader thread and the training thread).</summary>
    public int Prefetch { get; init; } = 3;

    /// <summary>Threads that decode and augment the samples of one batch (1: the loader thread alone).</summary>
    public int Workers { get; init; } = 1;
}
