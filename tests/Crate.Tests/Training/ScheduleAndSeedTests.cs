using Crate.Core.Contract;
using Crate.Core.Training;

namespace Crate.Tests.Training;

/// <summary>Learning-rate schedule, seed derivation, the managed RNG and the recipe options.</summary>
public class ScheduleAndSeedTests
{
    [Fact]
    public void WarmupThenCosineToTheMinimum()
    {
        var s = new LrSchedule(Peak: 1e-3, Min: 1e-4, WarmupSteps: 10, TotalSteps: 110);
        Assert.Equal(1e-4, s.At(0), 15);             // peak · 1/10
        Assert.Equal(5e-4, s.At(4), 15);             // peak · 5/10
        Assert.Equal(1e-3, s.At(9), 15);             // end of warm-up
        Assert.Equal(1e-3, s.At(10), 15);            // cosine starts at the peak
        Assert.Equal(5.5e-4, s.At(60), 15);          // half-way: min + (peak − min)/2
        Assert.Equal(1e-4 + 0.5 * (1 + Math.Cos(Math.PI * 0.25)) * 9e-4, s.At(35), 15);
        Assert.Equal(1e-4, s.At(110), 15);
        Assert.Equal(1e-4, s.At(500), 15);
        for (long i = 10; i < 110; i++) Assert.True(s.At(i + 1) <= s.At(i));
    }

    [Fact]
    public void CosineRampGoesFromStartToEnd()
    {
        Assert.Equal(0.04, LrSchedule.Cosine(0.04, 0.4, 0, 101), 15);
        Assert.Equal(0.22, LrSchedule.Cosine(0.04, 0.4, 50, 101), 15);
        Assert.Equal(0.4, LrSchedule.Cosine(0.04, 0.4, 100, 101), 15);
    }

    [Fact]
    public void SplitMixAndXoshiroMatchTheirReferenceVectors()
    {
        // SplitMix64 seeded with 0: first output 0xE220A8397B1DCDAF (Vigna's splitmix64.c).
        Assert.Equal(0xE220A8397B1DCDAFUL, SeedMath.Mix(0x9E3779B97F4A7C15UL));
        // xoshiro256** from state {1, 2, 3, 4} (Vigna's xoshiro256starstar.c).
        var rng = new DeterministicRng([1UL, 2UL, 3UL, 4UL]);
        Assert.Equal([11520UL, 0UL, 1509978240UL, 1215971899390074240UL],
            new[] { rng.NextUInt64(), rng.NextUInt64(), rng.NextUInt64(), rng.NextUInt64() });
    }

    [Fact]
    public void DerivedSeedsAreDistinctStableAndNonNegative()
    {
        var a = TrainingSeeds.From(7);
        Assert.Equal(a, TrainingSeeds.From(7));
        var all = new[] { a.Init, a.DataOrder, a.Augment, a.Masking, a.Dropout, a.Eval };
        Assert.Equal(all.Length, all.Distinct().Count());
        Assert.All(all, s => Assert.True(s >= 0));
        Assert.NotEqual(a.Init, TrainingSeeds.From(8).Init);
        Assert.Equal(SeedMath.Derive(a.Dropout, 5L), SeedMath.Derive(a.Dropout, 5L));
        Assert.NotEqual(SeedMath.Derive(a.Dropout, 5L), SeedMath.Derive(a.Dropout, 6L));
    }

    [Fact]
    public void RngStateRoundTripsAndPermutationsArePermutations()
    {
        var rng = new DeterministicRng(99);
        for (int i = 0; i < 10; i++) rng.NextUInt64();
        var copy = new DeterministicRng(rng.State);
        Assert.Equal(Enumerable.Range(0, 5).Select(_ => rng.NextUInt64()), Enumerable.Range(0, 5).Select(_ => copy.NextUInt64()));

        var seeds = TrainingSeeds.From(3);
        var p0 = seeds.EpochPermutation(0, 100);
        Assert.Equal(Enumerable.Range(0, 100), p0.Order());
        Assert.Equal(p0, seeds.EpochPermutation(0, 100));
        Assert.NotEqual(p0, seeds.EpochPermutation(1, 100));
        var counts = new int[4];
        for (int i = 0; i < 4000; i++) counts[rng.NextInt(4)]++;
        Assert.All(counts, c => Assert.InRange(c, 850, 1150));
    }

    [Fact]
    public void OptionsComeFromTheSharedConfigKeys()
    {
        var config = new ConfigSchema(TrainerKeys.All).Resolve(new Dictionary<string, string>
        {
            ["train.optimizer"] = "lion", ["train.lr"] = "2.4e-4", ["train.weight_decay"] = "0.5",
            ["train.batch_size"] = "2048", ["train.micro_batch"] = "128", ["train.warmup_epochs"] = "5", ["train.epochs"] = "150",
        });
        var o = TrainerOptions.FromConfig(config);
        Assert.Equal(OptimizerKind.Lion, o.Optimizer);
        Assert.Equal(2.4e-4, o.LearningRate);
        Assert.Equal(0.99, o.EffectiveBeta2);          // Lion's default β₂
        Assert.Equal(16, o.Accumulation);
        Assert.Equal(5.0, o.WarmupEpochs);
        Assert.Null(o.MaxSteps);
        o.Validate();

        var bad = o with { MicroBatchSize = 100 };
        var e = Assert.Throws<TrainerConfigException>(bad.Validate);
        Assert.Contains("micro-batch 100 must divide the batch 2048", e.Message);
    }

    [Fact]
    public void DeviceNamesResolve()
    {
        Assert.Equal(TorchSharp.torch.cuda.is_available() ? TorchSharp.DeviceType.CUDA : TorchSharp.DeviceType.CPU, Devices.Resolve("auto").type);
        Assert.Equal(TorchSharp.DeviceType.CPU, Devices.Resolve("CPU").type);
        Assert.Contains("not one of auto, cpu, cuda", Assert.Throws<TrainerConfigException>(() => Devices.Resolve("tpu")).Message);
        if (!TorchSharp.torch.cuda.is_available())
            Assert.Contains("torch.cuda.is_available() is false", Assert.Throws<TrainerConfigException>(() => Devices.Resolve("cuda")).Message);
    }
}
