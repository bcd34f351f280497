using Crate.Core.Contract;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>
/// The results database over mutated copies of a real one (bit flips, huge values, truncations, zeroed and
/// garbage ranges): opening it and reading every run, row and white-box row either works or throws
/// <see cref="ResultsStoreException"/> (a bad-input error), never another exception type or a hang. Seeded.
/// </summary>
public class DatabaseFuzzTests
{
    private const int Cases = 200;

    [Fact]
    public async Task A_mutated_database_reads_or_is_refused_with_the_stores_error()
    {
        using var seedFolder = new TempFolder();
        using (var store = ResultsStore.Open(seedFolder.Path))
            for (var seed = 0; seed < 6; seed++)
            {
                var run = Run("vit", seed % 2 == 0 ? "crate" : "vit", seed % 2 == 0 ? ModelRole.Crate : ModelRole.Baseline, seed, RunStatus.Finished);
                store.UpsertRun(run);
                for (var epoch = 1; epoch <= 5; epoch++) store.AddEpoch(run.Id, Epoch(epoch));
                store.SetWhiteBox(run.Id, [new WhiteBoxRow(0, "Rc", "val", 2, 0.1, 8), new WhiteBoxRow(1, "Rc", "val", 2.5, 0.1, 8)]);
            }
        var seedBytes = File.ReadAllBytes(Path.Combine(seedFolder.Path, ResultsStore.FileName));

        string current = "";
        var failures = new List<string>();
        int refused = 0, read = 0;
        var work = Task.Run(() =>
        {
            for (var i = 0; i < Cases; i++)
            {
                var (bytes, mutation) = Mutate(seedBytes, i);
                using var folder = new TempFolder();
                File.WriteAllBytes(Path.Combine(folder.Path, ResultsStore.FileName), bytes);
                Volatile.Write(ref current, $"case {i}: {mutation}");
                try
                {
                    using var store = ResultsStore.Open(folder.Path);
                    foreach (var run in store.Runs())
                    {
                        _ = store.Epochs(run.Id);
                        _ = store.WhiteBox(run.Id);
                    }
                    read++;
                }
                catch (BadInputException) { refused++; }
                catch (Exception e) { failures.Add($"case {i} ({mutation}): {e.GetType().Name}: {e.Message}"); }
            }
        });
        var finished = await Task.WhenAny(work, Task.Delay(TimeSpan.FromMinutes(2)));
        Assert.True(finished == work, $"the store hangs (or the machine is very slow) at {Volatile.Read(ref current)}");
        await work;
        Assert.True(failures.Count == 0, $"{failures.Count} of {Cases} cases threw another exception type:\n" + string.Join("\n", failures.Take(20)));
        Assert.Equal(Cases, read + refused);
        Assert.True(refused > 0, "no mutation was refused");
    }

    /// <summary>One seeded mutation of a database file and its description.</summary>
    private static (byte[] Bytes, string Mutation) Mutate(byte[] seed, int i)
    {
        var rng = new Random(1000 + i);
        var b = (byte[])seed.Clone();
        int at = rng.Next(b.Length);
        switch (i % 5)
        {
            case 0:
                return (b[..at], $"truncated to {at} bytes");
            case 1:
                for (var f = 0; f < 1 + rng.Next(8); f++) b[rng.Next(b.Length)] ^= (byte)(1 << rng.Next(8));
                return (b, "bit flips");
            case 2:
            {
                int p = Math.Min(at, b.Length - 4);
                new byte[] { 0xFF, 0xFF, 0xFF, 0x7F }.CopyTo(b, p);
                return (b, $"huge int32 at {p}");
            }
            case 3:
            {
                int len = Math.Min(1 + rng.Next(4096), b.Length - at);
                Array.Clear(b, at, len);
                return (b, $"{len} bytes at {at} zeroed");
            }
            default:
            {
                int len = Math.Min(1 + rng.Next(4096), b.Length - at);
                rng.NextBytes(b.AsSpan(at, len));
                return (b, $"{len} random bytes at {at}");
            }
        }
    }
}
