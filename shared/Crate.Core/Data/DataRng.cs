namespace Crate.Core.Data;

/// <summary>
/// A small seeded generator (SplitMix64) whose whole state is one <see cref="ulong"/>, so a trainer can
/// save it in a checkpoint and resume the exact sequence. Not thread-safe: one instance per thread.
/// </summary>
public sealed class DataRng
{
    private const ulong Golden = 0x9E3779B97F4A7C15UL;

    /// <summary>Starts the sequence of <paramref name="seed"/>.</summary>
    public DataRng(ulong seed) => State = seed;

    /// <summary>The full state; assigning a saved value resumes that sequence exactly.</summary>
    public ulong State { get; set; }

    /// <summary>Next 64 random bits.</summary>
    public ulong NextUInt64()
    {
        State += Golden;
        return Finalize(State);
    }

    /// <summary>Uniform double in [0, 1) with 53 random bits.</summary>
    public double NextDouble() => (NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary>Uniform double in [<paramref name="low"/>, <paramref name="high"/>).</summary>
    public double Uniform(double low, double high) => low + (high - low) * NextDouble();

    /// <summary>Uniform integer in [0, <paramref name="bound"/>) without modulo bias.</summary>
    public long NextInt64(long bound)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(bound);
        ulong n = (ulong)bound;
        ulong limit = ulong.MaxValue - ulong.MaxValue % n;   // reject the incomplete last block
        ulong r;
        do { r = NextUInt64(); } while (r >= limit);
        return (long)(r % n);
    }

    /// <summary>Uniform integer in [0, <paramref name="bound"/>).</summary>
    public int NextInt(int bound) => (int)NextInt64(bound);

    /// <summary>Shuffles <paramref name="items"/> in place (Fisher-Yates).</summary>
    public void Shuffle<T>(Span<T> items)
    {
        for (int i = items.Length - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// Derives an independent seed from a base seed and a path of integers (epoch, sample index,
    /// view...), so every random decision has its own stream that does not depend on thread timing.
    /// </summary>
    public static ulong Derive(ulong seed, params ReadOnlySpan<long> path)
    {
        ulong h = Finalize(seed + Golden);
        foreach (long v in path)
            h = Finalize(h ^ Finalize(unchecked((ulong)v * Golden + 1)));
        return h;
    }

    private static ulong Finalize(ulong z)
    {
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }
}
