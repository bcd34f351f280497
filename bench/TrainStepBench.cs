using System.Diagnostics;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>
/// One model's measured training steps: the real <see cref="Trainer{TBatch}"/> (the step every task trains with:
/// seeding, accumulation, gradient norm and clipping, the optimizer of <see cref="BenchOptions.ToTrainerOptions"/>)
/// runs warm-up + measured steps on <see cref="SyntheticImages"/> in a temporary <see cref="LocalRunContext"/>;
/// each step is timed from the previous <see cref="Trainer{TBatch}.StepCompleted"/> event (the first from the
/// start of the run, so it includes the trainer's setup and is always a warm-up step) to its own.
/// </summary>
internal static class TrainStepBench
{
    public static BenchRow Run(string modelName, BenchOptions o, double peakMatmulGflops)
    {
        ProcessMemory.ResetPeak();
        double rssStart = ProcessMemory.RssMiB();
        var (model, flopsForward, label) = Build(modelName, o);
        using var _ = model;
        long parameters = ModuleInit.CountParameters(model);
        int totalSteps = o.Warmup + o.Steps;
        var options = o.ToTrainerOptions(totalSteps);
        using var data = new SyntheticImages(o, options.EffectiveMicroBatch, (long)totalSteps * options.Accumulation);
        var spec = TrainingSpec.ForModel(model, data, loss: (b, _) => Losses.CrossEntropy(model.forward(b.Images), b.Labels));
        using var context = new LocalRunContext(seed: 0) { Task = "bench", Model = modelName, KeepProgress = false };
        var trainer = new Trainer<ImageBatch>(spec, options, context);

        var times = new List<double>();
        double lastLoss = double.NaN;
        Console.WriteLine($"{label}: {parameters:N0} parameters, {o.Warmup} warm-up + {o.Steps} measured steps");
        var clock = Stopwatch.StartNew();
        var stepStart = clock.Elapsed;
        trainer.StepCompleted += report =>
        {
            double seconds = (clock.Elapsed - stepStart).TotalSeconds;
            lastLoss = report.Loss;
            if (report.Step > o.Warmup)
                times.Add(seconds);
            if (o.RssEvery > 0 && report.Step % o.RssEvery == 0)
                Console.WriteLine($"  {label} step {report.Step,5}: RSS {ProcessMemory.RssMiB(),7:F0} MiB, step {seconds * 1e3,7:F1} ms, loss {lastLoss:F4}");
            stepStart = clock.Elapsed;   // the next step starts now: this handler's printing is not timed
        };
        trainer.Run();

        times.Sort();
        double median = times[times.Count / 2];
        double stepFlops = 3 * flopsForward;
        return new BenchRow(label, parameters, o.Fast, median * 1e3, times[0] * 1e3, times[^1] * 1e3,
            o.Batch / median, stepFlops / 1e9, stepFlops / median / 1e9, peakMatmulGflops,
            rssStart, ProcessMemory.PeakMiB(), ProcessMemory.RssMiB());
    }

    private static (nn.Module<Tensor, Tensor> Model, double FlopsForward, string Label) Build(string name, BenchOptions o)
    {
        if (name == "crate")
        {
            var c = new CrateConfig(o.Dim, o.Depth, o.Heads, o.Image, o.Patch, o.Channels, o.Classes, Fast: o.Fast);
            return (new CrateClassifier(c), ModelFlops.CrateForward(c, o.Batch, o.Fast), "CRATE");
        }
        var v = new VitConfig(o.Dim, o.Depth, o.Heads, o.Image, o.Patch, o.Channels, o.Classes, Fast: o.Fast);
        return (new VisionTransformer(v), ModelFlops.VitForward(v, o.Batch), "ViT");
    }
}

/// <summary>One line of the result table.</summary>
internal sealed record BenchRow(
    string Model, long Parameters, bool Fast, double MedianMs, double MinMs, double MaxMs, double SamplesPerSecond,
    double GflopPerStep, double AchievedGflops, double PeakMatmulGflops, double RssStartMiB, double RssPeakMiB, double RssFinalMiB)
{
    public static void PrintTable(IReadOnlyList<BenchRow> rows, BenchOptions o)
    {
        Console.WriteLine($"d={o.Dim} depth={o.Depth} heads={o.Heads} image={o.Image}x{o.Image}x{o.Channels} patch={o.Patch} " +
                          $"classes={o.Classes} batch={o.Batch} threads={o.Threads} steps={o.Steps} (+{o.Warmup} warm-up), allocator {ProcessMemory.Allocator()}");
        Console.WriteLine($"Trainer step: {o.Optimizer} lr={o.LearningRate:G4} weight decay={o.WeightDecay:G4} (matrices), grad clip={(o.GradClip > 0 ? o.GradClip.ToString("G4") : "off")}, " +
                          $"micro-batch={o.EffectiveMicroBatch} (accumulation {o.Batch / o.EffectiveMicroBatch}).");
        Console.WriteLine("GFLOP/step: analytic matmul FLOPs, forward x3 (element-wise ops not counted); % of the best fp32 matmul rate.");
        string header = $"| {"model",-6} | {"params",10} | {"fast",-5} | {"ms/step med",11} | {"min-max ms",13} | {"samples/s",9} | {"GFLOP/step",10} | {"GFLOP/s",7} | {"% matmul",8} | {"RSS start",9} | {"RSS peak",8} | {"RSS final",9} |";
        Console.WriteLine(header);
        Console.WriteLine("|" + string.Join("|", header.Split('|', StringSplitOptions.RemoveEmptyEntries).Select(c => new string('-', c.Length))) + "|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Model,-6} | {r.Parameters,10:N0} | {(r.Fast ? "yes" : "no"),-5} | {r.MedianMs,11:F1} | {$"{r.MinMs:F0}-{r.MaxMs:F0}",13} | {r.SamplesPerSecond,9:F1} | " +
                              $"{r.GflopPerStep,10:F2} | {r.AchievedGflops,7:F1} | {Percent(r.AchievedGflops, r.PeakMatmulGflops),8} | " +
                              $"{r.RssStartMiB,5:F0} MiB | {r.RssPeakMiB,4:F0} MiB | {r.RssFinalMiB,5:F0} MiB |");
    }

    private static string Percent(double part, double whole) =>
        double.IsFinite(whole) && whole > 0 ? $"{100 * part / whole:F1}%" : "n/a";
}
