using System.Diagnostics;
using Crate.Core.Training;
using TorchSharp;

namespace Crate.Bench;

/// <summary>One measured (task, model, precision): step times, throughput, FLOP rate against the matmul references, RSS.</summary>
internal sealed record BenchRow(
    string Task, string Model, string Description, string Precision, long Parameters, int Batch, int MicroBatch,
    int WarmupSteps, int MeasuredSteps, double MedianMs, double MinMs, double MaxMs, double SamplesPerSecond,
    double GflopPerStep, double AchievedGflops, GemmShape LargestGemm, double? GemmGflops, double? SquareGflops,
    double RssAfterWarmupMiB, double RssEndMiB, double RssPeakMiB, double RssChange, bool? RssFlat, double ManagedAfterWarmupMiB, double ManagedEndMiB,
    double LastLoss, string Device = "cpu", double? DeviceMemoryPeakMiB = null, string Unit = "images", double UnitsPerSecond = 0)
{
    /// <summary>Achieved rate as a share of the matmul rate at the model's largest weight product, same precision.</summary>
    public double? PercentOfGemm => GemmGflops is > 0 ? 100 * AchievedGflops / GemmGflops : null;

    /// <summary>Achieved rate as a share of the 2048² matmul rate, same precision.</summary>
    public double? PercentOfSquare => SquareGflops is > 0 ? 100 * AchievedGflops / SquareGflops : null;

    /// <summary>
    /// Milliseconds the step's products would take at the matmul rate of the model's largest weight product (same
    /// precision); the rest of <see cref="MedianMs"/> is element-wise work, normalisation, attention's softmax, casts,
    /// the optimizer and whatever the products lose to smaller shapes.
    /// </summary>
    public double? GemmMs => GemmGflops is > 0 ? 1e3 * GflopPerStep / GemmGflops : null;
}

/// <summary>
/// fp32 against bf16 for one (task, model): the measured speed-up and the speed-up bf16 could give if it sped up the
/// products alone, from the reference rates: fp32 step / (fp32 step − its products at the fp32 rate + the products at
/// the bf16 rate). When the measured value stays far below that estimate the casts and element-wise work in bf16 cost
/// what its products save; when the estimate itself is low the step is not matmul-bound and no precision of the
/// products can make it much faster.
/// </summary>
internal sealed record PrecisionPair(string Task, string Model, double Fp32Ms, double Bf16Ms, double? Fp32GemmMs, double? Bf16GemmMs)
{
    /// <summary>fp32 step / bf16 step, measured.</summary>
    public double SpeedUp => Fp32Ms / Bf16Ms;

    /// <summary>The speed-up of a bf16 step that sped up only the products, at the reference rates (null without them).</summary>
    public double? ProductsOnlySpeedUp => Fp32GemmMs is { } f && Bf16GemmMs is { } b ? Fp32Ms / (Fp32Ms - f + b) : null;

    /// <summary>The pairs of <paramref name="rows"/> measured in both precisions.</summary>
    public static List<PrecisionPair> Of(IEnumerable<BenchRow> rows) =>
        rows.GroupBy(r => (r.Task, r.Model))
            .Where(g => g.Any(r => r.Precision == "fp32") && g.Any(r => r.Precision == "bf16"))
            .Select(g => (Fp32: g.First(r => r.Precision == "fp32"), Bf16: g.First(r => r.Precision == "bf16")))
            .Select(p => new PrecisionPair(p.Fp32.Task, p.Fp32.Model, p.Fp32.MedianMs, p.Bf16.MedianMs, p.Fp32.GemmMs, p.Bf16.GemmMs))
            .ToList();
}

/// <summary>
/// Times one <see cref="StepBenchmark"/> at one precision: the real <see cref="Trainer{TBatch}"/> runs warm-up + measured
/// steps in a temporary <see cref="LocalRunContext"/>; each step is timed from the previous
/// <see cref="Trainer{TBatch}.StepCompleted"/> event (the first from the start of the run, so it includes the trainer's
/// setup and is always a warm-up step) to its own; the handler's own work is not timed.
/// </summary>
internal static class TrainStepBench
{
    /// <summary>Times <paramref name="bench"/>; the matmul rates are left empty (<see cref="MatmulReferences.Apply"/> fills them in).</summary>
    public static BenchRow Run(string task, string model, StepBenchmark bench, Precision precision, BenchOptions o)
    {
        ProcessMemory.ResetPeak();
        int total = o.Warmup + o.MeasuredSteps;
        var times = new List<double>(o.MeasuredSteps);
        double lastLoss = double.NaN, rssAfterWarmup = double.NaN, rssEnd = double.NaN, managedAfterWarmup = double.NaN, managedEnd = double.NaN;
        string precisionName = precision == Precision.Bf16 ? "bf16" : "fp32";
        using var context = new LocalRunContext(seed: 0) { Task = task, Model = model, KeepProgress = false, Device = o.Device };
        bool onCuda = o.Device.StartsWith("cuda", StringComparison.Ordinal);
        double? deviceUsed = null;
        var clock = Stopwatch.StartNew();
        var stepStart = clock.Elapsed;
        int reportEvery = Math.Max(1, total / 10);
        var device = Devices.Resolve(o.Device);
        bench.Run(total, precision, context, report =>
        {
            // The step's loss and gradient norm are host numbers, but its optimizer update (and a DINO teacher's EMA) may
            // still be queued on a CUDA stream: wait for them, so each step is charged its own kernels.
            if (onCuda) torch.cuda.synchronize(device);
            double seconds = (clock.Elapsed - stepStart).TotalSeconds;
            lastLoss = report.Loss;
            if (onCuda && DeviceMemory.UsedMiB() is { } used) deviceUsed = Math.Max(deviceUsed ?? 0, used);
            if (report.Step > o.Warmup) times.Add(seconds);
            bool reading = report.Step == o.Warmup || report.Step == total || (o.RssSteps > 0 && report.Step % reportEvery == 0);
            if (reading && o.RssSteps > 0) Settle();
            if (report.Step == o.Warmup) (rssAfterWarmup, managedAfterWarmup) = (ProcessMemory.RssMiB(), ManagedMiB());
            if (report.Step == total) (rssEnd, managedEnd) = (ProcessMemory.RssMiB(), ManagedMiB());
            if (o.RssSteps > 0 && report.Step % reportEvery == 0)
                Console.WriteLine($"  {task}/{model} {precisionName} step {report.Step,5}/{total}: RSS {ProcessMemory.RssMiB(),6:F0} MiB (.NET heap {ManagedMiB(),4:F0} MiB, {GC.CollectionCount(0)} gen-0 GCs), {seconds * 1e3,7:F1} ms, loss {report.Loss:F4}");
            stepStart = clock.Elapsed;
        });
        times.Sort();
        double median = times[times.Count / 2];
        double flops = bench.StepFlops, achieved = flops / median / 1e9;
        double change = (rssEnd - rssAfterWarmup) / rssAfterWarmup;
        bool? flat = o.RssSteps > 0 ? Math.Abs(change) <= o.RssTolerance : null;
        var options = bench.Options;
        return new BenchRow(task, model, bench.Description, precisionName, bench.Parameters, options.BatchSize, options.EffectiveMicroBatch,
            o.Warmup, times.Count, median * 1e3, times[0] * 1e3, times[^1] * 1e3, options.BatchSize / median, flops / 1e9, achieved,
            bench.LargestLinear, null, null,
            rssAfterWarmup, rssEnd, ProcessMemory.PeakMiB(), change, flat, managedAfterWarmup, managedEnd, lastLoss, o.Device, deviceUsed,
            bench.Unit, (double)options.BatchSize * bench.UnitsPerSample / median);
    }

    /// <summary>
    /// A full blocking garbage collection with finalizers before an RSS reading of <c>--rss-steps</c> (outside the
    /// timed part): the .NET heap grows by tens of MiB between collections (none may run in 1,000 small steps on a
    /// machine with a large cache, whose first-generation budget is large), so an unsettled reading measures when
    /// the collector last ran, not whether a step leaks.
    /// </summary>
    private static void Settle()
    {
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
    }

    /// <summary>The .NET heap in MiB: bytes allocated and not yet collected (garbage included until a collection runs).</summary>
    private static double ManagedMiB() => GC.GetTotalMemory(forceFullCollection: false) / (1024.0 * 1024.0);
}
