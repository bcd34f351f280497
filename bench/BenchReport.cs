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
        foreach (var g in rows.GroupBy(r => (r.Task, r.Model)).Where(g => g.Count() == 2))
        {
            var (fp32, bf16) = (g.First(r => r.Precision == "fp32"), g.First(r => r.Precision == "bf16"));
            Console.WriteLine($"  {g.Key.Task}/{g.Key.Model}: bf16 step = {bf16.MedianMs / fp32.MedianMs:F2} x fp32; largest weight product {fp32.LargestGemm}");
        }
    }

    private static string Percent(double? p) => p is { } v ? $"{v:F1}%" : "n/a";
}
