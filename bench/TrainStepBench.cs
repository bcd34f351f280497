using System.Diagnostics;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>One model's measured training steps.</summary>
internal static class TrainStepBench
{
    public static BenchRow Run(string modelName, BenchOptions o, double peakMatmulGflops)
    {
        ProcessMemory.ResetPeak();
        double rssStart = ProcessMemory.RssMiB();
        var (model, flopsForward, label) = Build(modelName, o);
        using var _ = model;
        long parameters = ModuleInit.CountParameters(model);
        using var optimizer = optim.AdamW(model.parameters(), lr: 1e-3, weight_decay: 0.05);
        model.train();

        // A few fixed random batches outside the timing, cycled.
        var batches = Enumerable.Range(0, 4).Select(_ => (
            Images: randn(o.Batch, o.Channels, o.Image, o.Image),
            Labels: randint(0, o.Classes, [o.Batch]))).ToList();

        var times = new List<double>();
        double lastLoss = double.NaN;
        Console.WriteLine($"{label}: {parameters:N0} parameters, {o.Warmup} warm-up + {o.Steps} measured steps");
        for (int step = 1; step <= o.Warmup + o.Steps; step++)
        {
            var (images, labels) = batches[step % batches.Count];
            var sw = Stopwatch.StartNew();
            using (var scope = NewDisposeScope())
            {
                optimizer.zero_grad();
                var logits = model.forward(images);
                var loss = nn.functional.cross_entropy(logits, labels);
                loss.backward();
                optimizer.step();
                lastLoss = loss.item<float>();
            }
            double seconds = sw.Elapsed.TotalSeconds;
            if (step > o.Warmup)
                times.Add(seconds);
            if (o.RssEvery > 0 && step % o.RssEvery == 0)
                Console.WriteLine($"  {label} step {step,5}: RSS {ProcessMemory.RssMiB(),7:F0} MiB, step {seconds * 1e3,7:F1} ms, loss {lastLoss:F4}");
        }
        if (!double.IsFinite(lastLoss))
            throw new InvalidOperationException($"{label}: the loss is not finite ({lastLoss}).");

        foreach (var (images, labels) in batches)
        {
            images.Dispose();
            labels.Dispose();
        }
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
