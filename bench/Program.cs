using System.Globalization;
using Crate.Bench;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

// Training-step benchmark: the real Trainer's step (forward + cross-entropy + backward + clip + optimizer update),
// on synthetic data of the configured shape; median step time, throughput, RSS, and the machine's fp32
// matmul rate through the same libtorch. See BenchOptions.Usage.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
BenchOptions options;
try
{
    options = BenchOptions.Parse(args);
}
catch (BenchUsageException e)
{
    if (e.Reason is not null)
        Console.Error.WriteLine($"error: {e.Reason}");
    Console.Error.WriteLine(BenchOptions.Usage);
    return e.Reason is null ? 0 : 2;
}

torch.set_num_threads(options.Threads);
torch.set_num_interop_threads(1);
torch.manual_seed(0);
Console.WriteLine($"libtorch threads {torch.get_num_threads()}, allocator {ProcessMemory.Allocator()}, " +
                  $"fast paths {(options.Fast ? "on" : "off")}, precision {options.Precision}, {Environment.ProcessorCount} logical CPUs");

var matmulRates = options.Matmul ? MatmulRate.Measure([1024, 2048]) : [];
foreach (var (size, gflops) in matmulRates)
    Console.WriteLine($"fp32 matmul {size}x{size}: {gflops:F1} GFLOP/s");
double peakMatmul = matmulRates.Count > 0 ? matmulRates.Max(r => r.Gflops) : double.NaN;

var rows = new List<BenchRow>();
foreach (var model in options.Model == "both" ? new[] { "crate", "vit" } : [options.Model])
    rows.Add(TrainStepBench.Run(model, options, peakMatmul));

Console.WriteLine();
BenchRow.PrintTable(rows, options);
return 0;
