using System.Globalization;
using System.Text.Json;
using Crate.Bench;
using Crate.Core.Contract;
using Crate.Core.Runtime;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Plugins.Dino;
using Crate.Plugins.Gpt2;
using Crate.Plugins.Mae;
using Crate.Plugins.Vit;
using TorchSharp;

// Training-step benchmark of every task (BenchOptions.Usage). The plugins are referenced as projects, not loaded
// from the host's plugins/ folder: the bench then builds and runs from a clean checkout with `dotnet run`, needs no
// host build, and a plugin that loses its IStepBenchmark fails the bench's build instead of silently dropping a row.
// Like the host, it re-executes itself under jemalloc first (CRATE_ALLOCATOR=system keeps glibc), so the RSS measured
// is the RSS of a training run.
if (NativeAllocator.RelaunchIfNeeded() is { } relaunchCode) return relaunchCode;
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
torch.Device device;
try
{
    device = Devices.Resolve(options.Device);
}
catch (TrainerConfigException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
bool onCuda = device.type == DeviceType.CUDA;
if (onCuda)
    Console.WriteLine($"device {options.Device}: {torch.cuda.device_count()} CUDA device(s) visible; device memory: {DeviceMemory.Source}");
var machine = MachineFacts.Read(torch.get_num_threads());
Console.WriteLine($"{machine.CpuModel}, {machine.LogicalCpus} logical CPUs, avx512_bf16 {machine.Avx512Bf16}, amx_bf16 {machine.AmxBf16}; " +
                  $"libtorch threads {machine.TorchThreads}, allocator {machine.Allocator}; load average {machine.LoadAverageAtStart}; " +
                  $"commit {machine.Commit[..Math.Min(12, machine.Commit.Length)]}{(machine.WorkingTreeDirty ? " (dirty)" : "")}");

if (options.Layer is { } layerShape)
{
    var parts = CrateLayerBench.Run(layerShape, options);
    CrateLayerBench.Print(parts, layerShape, options, machine);
    if (options.JsonPath is { } layerJson)
    {
        File.WriteAllText(layerJson, JsonSerializer.Serialize(new { machine, layer = layerShape, options.Threads, options.Warmup, options.Steps, parts },
            new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
        Console.WriteLine($"wrote {Path.GetFullPath(layerJson)}");
    }
    return 0;
}

ICrateTask[] known = [new VitTask(), new Gpt2Task(), new MaeTask(), new DinoTask(), new BertTask()];
var plan = new List<(ICrateTask Task, string Model, ResolvedConfig Config)>();
try
{
    plan.AddRange(BenchPlan.Resolve(known, options));
}
catch (Exception e) when (e is BenchUsageException or ConfigException)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

var references = new MatmulReferences(options.MatmulSeconds, device);
var rows = new List<BenchRow>();
var shapes = new List<GemmShape>();
foreach (var (task, model, config) in plan)
{
    using var bench = ((IStepBenchmark)task).CreateStepBenchmark(model, config);
    Console.WriteLine($"{task.Name}/{model}: {bench.Description}; {bench.Parameters:N0} parameters, batch {bench.Options.BatchSize} " +
                      $"(micro-batch {bench.Options.EffectiveMicroBatch}), {bench.Options.Optimizer}, clip {bench.Options.GradClip:G3}");
    shapes.Add(bench.LargestLinear);
    if (options.Matmul) references.MeasureRound([bench.LargestLinear], options.Precisions);
    foreach (var precision in options.Precisions)
    {
        var row = TrainStepBench.Run(task.Name, model, bench, precision, options);
        Console.WriteLine($"  {row.Precision}: {row.MedianMs:F1} ms/step median, {row.UnitsPerSecond:F1} {row.Unit}/s, {row.AchievedGflops:F1} GFLOP/s, " +
                          $"RSS {row.RssAfterWarmupMiB:F0} -> {row.RssEndMiB:F0} MiB" +
                          (onCuda ? $", device memory in use {(row.DeviceMemoryPeakMiB is { } used ? $"{used:F0} MiB at most" : "not available")}" : ""));
        rows.Add(row);
    }
}
if (options.Matmul)
{
    Console.WriteLine("matmul references, second round:");
    references.MeasureRound(shapes, options.Precisions);
    rows = rows.Select(references.Apply).ToList();
}

Console.WriteLine();
BenchReport.PrintTable(rows, options, machine);
if (options.JsonPath is { } path)
{
    var document = new { machine, options = new
        {
            options.Tasks, options.Models, options.Preset, Sets = options.Sets.Select(s => $"{s.Key}={s.Value}"),
            Precisions = options.Precisions.Select(p => p.ToString().ToLowerInvariant()), options.Threads, options.Device, options.Warmup,
            MeasuredSteps = options.MeasuredSteps, options.RssSteps, options.RssTolerance, options.MatmulSeconds,
        }, device_memory_source = onCuda ? DeviceMemory.Source : "cpu run", matmul = references.Best, matmul_measurements = references.Measured, rows,
        precision_pairs = PrecisionPair.Of(rows) };
    File.WriteAllText(path, JsonSerializer.Serialize(document, new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
    Console.WriteLine($"wrote {Path.GetFullPath(path)}");
}
var notFlat = rows.Where(r => r.RssFlat == false).ToList();
foreach (var r in notFlat)
    Console.Error.WriteLine($"error: RSS of {r.Task}/{r.Model} {r.Precision} is not flat: {r.RssAfterWarmupMiB:F0} MiB after warm-up, " +
                            $"{r.RssEndMiB:F0} MiB after {r.MeasuredSteps} more steps ({100 * r.RssChange:+0.0;-0.0} %, allowed ±{100 * options.RssTolerance:F0} %; " +
                            $".NET heap {r.ManagedAfterWarmupMiB:F0} -> {r.ManagedEndMiB:F0} MiB)");
return notFlat.Count > 0 ? 3 : 0;
