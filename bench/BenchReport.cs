namespace Crate.Bench;

/// <summary>The result table.</summary>
internal static class BenchReport
{
    public static void PrintTable(IReadOnlyList<BenchRow> rows, BenchOptions o, MachineFacts m)
    {
        Console.WriteLine($"preset {o.Preset}{string.Concat(o.Sets.Select(s => $" --set {s.Key}={s.Value}"))}; {o.Warmup} warm-up + {o.MeasuredSteps} measured steps; " +
                          $"{m.TorchThreads} threads; load average at start {m.LoadAverageAtStart}; allocator {m.Allocator}");
        Console.WriteLine("GFLOP/step: analytic matmul FLOPs of the step (forward x3 where gradients flow; element-wise work not counted). " +
                          "% gemm / % 2048: of the best matmul rate at the model's largest weight product / at 2048x2048, in the same precision.");
        string header = $"| {"task",-4} | {"model",-9} | {"prec",-4} | {"params",10} | {"batch",7} | {"ms/step",8} | {"min-max ms",13} | {"samples/s",9} | " +
                        $"{"GFLOP/step",10} | {"GFLOP/s",7} | {"% gemm",6} | {"% 2048",6} | {"RSS warm→end MiB",17} | {"flat",4} |";
        Console.WriteLine(header);
        Console.WriteLine("|" + string.Join("|", header.Split('|', StringSplitOptions.RemoveEmptyEntries).Select(c => new string('-', c.Length))) + "|");
        foreach (var r in rows)
            Console.WriteLine($"| {r.Task,-4} | {r.Model,-9} | {r.Precision,-4} | {r.Parameters,10:N0} | {$"{r.Batch}/{r.MicroBatch}",7} | {r.MedianMs,8:F1} | " +
                              $"{$"{r.MinMs:F0}-{r.MaxMs:F0}",13} | {r.SamplesPerSecond,9:F1} | {r.GflopPerStep,10:F3} | {r.AchievedGflops,7:F1} | " +
                              $"{Percent(r.PercentOfGemm),6} | {Percent(r.PercentOfSquare),6} | {$"{r.RssAfterWarmupMiB:F0}→{r.RssEndMiB:F0} ({100 * r.RssChange:+0;-0}%)",17} | " +
                              $"{(r.RssFlat is { } f ? (f ? "yes" : "NO") : "-"),4} |");
        foreach (var p in PrecisionPair.Of(rows))
        {
            var largest = rows.First(r => r.Task == p.Task && r.Model == p.Model).LargestGemm;
            string bound = p.ProductsOnlySpeedUp is { } b
                ? $"; its products at the reference rates: {p.Fp32GemmMs:F1} ms fp32, {p.Bf16GemmMs:F1} ms bf16, so sped-up products alone would give {b:F2}x"
                : "";
            Console.WriteLine($"  {p.Task}/{p.Model}: bf16 step = {1 / p.SpeedUp:F2} x fp32 ({p.SpeedUp:F2}x speed-up){bound}; largest weight product {largest}");
        }
    }

    private static string Percent(double? p) => p is { } v ? $"{v:F1}%" : "n/a";
}
