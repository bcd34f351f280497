namespace Crate.Core.Training;

/// <summary>
/// Seeds derived from one master seed, so a run is reproducible from <c>IRunContext.Seed</c> alone.
/// <para>
/// The derivation is <c>Derive(master, purpose) = Mix(master XOR Fnv1a64(purpose))</c> with
/// <see cref="SeedMath.Mix"/> the SplitMix64 finaliser and FNV-1a over the purpose's UTF-8 bytes;
/// per-step seeds are <c>Derive(seed, index) = Mix(seed + (index + 1) * 0x9E3779B97F4A7C15)</c>.
/// All results are masked to 63 bits so they are valid non-negative <c>torch.manual_seed</c> arguments.
/// </para>
/// </summary>
/// <param name="Master">The run's master seed.</param>
/// <param name="Init">Weight initialisation: call <c>torch.manual_seed(Init)</c> before building the model.</param>
/// <param name="DataOrder">Shuffling: the permutation of epoch e is <see cref="DeterministicRng.Permutation"/>(n, Derive(DataOrder, e)).</param>
/// <param name="Augment">Data augmentation of micro-batch (epoch, index): a <see cref="DeterministicRng"/> from <see cref="ForBatch"/>.</param>
/// <param name="Masking">Per-micro-batch seed of the step's <c>torch.Generator</c> (MAE / MLM masking).</param>
/// <param name="Dropout">Per-step seed of torch's default generator (dropout, stochastic depth).</param>
/// <param name="Eval">Seed of torch's default generator before each evaluation.</param>
public sealed record TrainingSeeds(long Master, long Init, long DataOrder, long Augment, long Masking, long Dropout, long Eval)
{
    /// <summary>Derives every purpose's seed from <paramref name="master"/>.</summary>
    public static TrainingSeeds From(long master) => new(
        master,
        SeedMath.Derive(master, "init"),
        SeedMath.Derive(master, "data-order"),
        SeedMath.Derive(master, "augment"),
        SeedMath.Derive(master, "masking"),
        SeedMath.Derive(master, "dropout"),
        SeedMath.Derive(master, "eval"));

    /// <summary>A fresh generator for augmenting micro-batch <paramref name="index"/> of <paramref name="epoch"/>.</summary>
    public DeterministicRng ForBatch(int epoch, long index) =>
        new(SeedMath.Derive(SeedMath.Derive(Augment, epoch), index));

    /// <summary>The sample order of <paramref name="epoch"/> over <paramref name="count"/> samples.</summary>
    public int[] EpochPermutation(int epoch, int count) =>
        DeterministicRng.Permutation(count, SeedMath.Derive(DataOrder, epoch));
}

/// <summary>The deterministic seed arithmetic behind <see cref="TrainingSeeds"/>.</summary>
public static class SeedMath
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>SplitMix64's output function: a bijective 64-bit mixer.</summary>
    public static ulong Mix(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>The seed for a named purpose, e.g. <c>"masking"</c>.</summary>
    public static long Derive(long seed, string purpose) => Positive(Mix((ulong)seed ^ Fnv1a64(purpose)));

    /// <summary>The seed for item <paramref name="index"/> (step, epoch, batch) of a stream.</summary>
    public static long Derive(long seed, long index) => Positive(Mix((ulong)seed + ((ulong)index + 1) * Golden));

    /// <summary>64-bit FNV-1a over the UTF-8 bytes of <paramref name="text"/>.</summary>
    public static ulong Fnv1a64(string text)
    {
        ulong h = 0xCBF29CE484222325UL;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes(text)) h = (h ^ b) * 0x100000001B3UL;
        return h;
    }

    private static long Positive(ulong v) => (long)(v & 0x7FFF_FFFF_FFFF_FFFFUL);
}
