using System.Globalization;
using Crate.Core.Training;

namespace Crate.Bench;

/// <summary>Command-line options of the training-step benchmark.</summary>
internal sealed record BenchOptions
{
    /// <summary>Every task that has a step benchmark, in the order they run.</summary>
    public static readonly IReadOnlyList<string> AllTasks = ["vit", "gpt2", "mae", "dino", "bert"];

    public IReadOnlyList<string> Tasks { get; init; } = AllTasks;

    /// <summary>Model names to keep (empty: every model of each task).</summary>
    public IReadOnlyList<string> Models { get; init; } = [];

    public string Preset { get; init; } = "small";
    public IReadOnlyList<KeyValuePair<string, string>> Sets { get; init; } = [];
    public IReadOnlyList<Precision> Precisions { get; init; } = [Precision.Fp32, Precision.Bf16];
    public int Threads { get; init; } = 2;

    /// <summary>The device the steps and matmul references run on: cpu, cuda or cuda:N (<see cref="Devices.Resolve"/>).</summary>
    public string Device { get; init; } = "cpu";
    public int Steps { get; init; } = 20;
    public int Warmup { get; init; } = 3;

    /// <summary>When > 0: measure this many steps and require RSS after warm-up and at the end to agree within <see cref="RssTolerance"/>.</summary>
    public int RssSteps { get; init; }

    public double RssTolerance { get; init; } = 0.10;
    public bool Matmul { get; init; } = true;
    public double MatmulSeconds { get; init; } = 1.0;
    public string? JsonPath { get; init; }

    /// <summary>When set: time the parts of one CRATE layer at this shape (<see cref="CrateLayerBench"/>) instead of the training steps.</summary>
    public LayerShape? Layer { get; init; }

    /// <summary>Measured steps per run: <see cref="RssSteps"/> when set, else <see cref="Steps"/>.</summary>
    public int MeasuredSteps => RssSteps > 0 ? RssSteps : Steps;

    public const string Usage = """
        Training-step benchmark of every task's models: the real Trainer's step (the task's own spec, optimizer, parameter
        groups, clipping, accumulation and precision) on synthetic batches of the preset's shapes, fp32 and bf16, against
        the matmul rate at the model's largest weight product and at 2048x2048, with RSS over the run.
        usage: dotnet run -c Release --project bench -- [options]
          --tasks vit,gpt2,mae,dino,bert   (all)    tasks to run
          --model NAME[,NAME]              (all)    models to keep, e.g. crate (every task's CRATE) or vit,gpt2; 'both' = all
          --preset small                   (small)  the task preset whose config is benchmarked (smoke, small, paper)
          --set key=value                  (repeat) override a config key of every selected task, e.g. --set train.batch_size=128
          --precision fp32|bf16|both       (both)
          --steps 20 --warmup 3                     measured and warm-up steps (warm-up >= 1: the first step times the setup)
          --rss-steps N                    (0: off) measure N steps and fail (exit 3) unless RSS after warm-up and at the end
                                                    agree within --rss-tolerance (0.10); each RSS reading follows a
                                                    full garbage collection (not timed)
          --threads 2                               libtorch intra-op threads
          --device cpu|cuda|cuda:N         (cpu)    where the steps and the matmul references run; on CUDA each row also
                                                    gets the device memory in use at the step ends (see DeviceMemory)
          --matmul true|false              (true)   matmul references; --matmul-seconds 1 per shape (best of the repeats)
          --json FILE                               every number plus machine facts (CPU, flags, load, commit)
          --layer B,n,d,K                           instead of the steps: forward + backward of one CRATE layer and of each
                                                    of its parts (LayerNorm, qkv, attention, output map, ISTA) at batch B,
                                                    n tokens, width d, K heads, per precision (e.g. 128,50,192,6: the prototype)
        The prototype config of the former bench: --tasks vit --set model.dim=192 --set model.depth=6 --set model.heads=6
          --set model.patch_size=4 --set train.batch_size=128 (CRATE and ViT at the same width).
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
        var sets = new List<KeyValuePair<string, string>>();
        for (int i = 0; i < args.Length; i++)
        {
            string key = args[i];
            if (key is "-h" or "--help")
                throw new BenchUsageException(null);
            if (i + 1 >= args.Length)
                throw new BenchUsageException($"option {key} needs a value");
            string v = args[++i];
            o = key switch
            {
                "--tasks" or "--task" => o with { Tasks = List(key, v, AllTasks) },
                "--model" or "--models" => o with { Models = v == "both" ? [] : v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) },
                "--preset" => o with { Preset = v.Length > 0 ? v : throw new BenchUsageException("--preset needs a name") },
                "--set" => Set(o, sets, v),
                "--precision" => o with { Precisions = v switch
                {
                    "fp32" => [Precision.Fp32],
                    "bf16" => [Precision.Bf16],
                    "both" => [Precision.Fp32, Precision.Bf16],
                    _ => throw new BenchUsageException($"--precision must be fp32, bf16 or both, not '{v}'"),
                } },
                "--threads" => o with { Threads = Int(key, v) },
                "--device" => o with { Device = v is "cpu" or "cuda" || (v.StartsWith("cuda:", StringComparison.Ordinal) && int.TryParse(v[5..], out int n) && n >= 0)
                    ? v : throw new BenchUsageException($"--device must be cpu, cuda or cuda:N, not '{v}'") },
                "--steps" => o with { Steps = Int(key, v) },
                "--warmup" => o with { Warmup = Int(key, v) },
                "--rss-steps" => o with { RssSteps = Int(key, v, min: 0) },
                "--rss-tolerance" => o with { RssTolerance = Real(key, v) },
                "--matmul" => o with { Matmul = Bool(key, v) },
                "--matmul-seconds" => o with { MatmulSeconds = Real(key, v) is > 0 and var s ? s : throw new BenchUsageException("--matmul-seconds must be > 0") },
                "--layer" => o with { Layer = LayerShape.Parse(v) },
                "--json" => o with { JsonPath = v.Length > 0 ? v : throw new BenchUsageException("--json needs a file name") },
                "--dim" or "--depth" or "--heads" or "--image" or "--patch" or "--channels" or "--classes" or "--batch" or "--optimizer"
                    or "--lr" or "--weight-decay" or "--grad-clip" or "--micro-batch" or "--fast" or "--rss-every" =>
                    throw new BenchUsageException($"{key} is gone: the shapes and the recipe come from the task's preset; override them with --set " +
                                                  "(e.g. --set model.dim=192, --set train.batch_size=128, --set train.micro_batch=32, --set train.grad_clip=1)"),
                _ => throw new BenchUsageException($"unknown option {key}"),
            };
        }
        return o with { Sets = sets };
    }

    private static BenchOptions Set(BenchOptions o, List<KeyValuePair<string, string>> sets, string v)
    {
        int eq = v.IndexOf('=');
        if (eq <= 0) throw new BenchUsageException($"--set needs key=value, not '{v}'");
        sets.Add(new(v[..eq].Trim(), v[(eq + 1)..].Trim()));
        return o;
    }

    private static string[] List(string key, string v, IReadOnlyList<string> allowed)
    {
        var items = v.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (items.Length == 0) throw new BenchUsageException($"{key} needs at least one of {string.Join(", ", allowed)}");
        foreach (var item in items)
            if (!allowed.Contains(item))
                throw new BenchUsageException($"{key}: unknown task '{item}' (tasks: {string.Join(", ", allowed)})");
        return items.Distinct().ToArray();
    }

    private static double Real(string key, string v) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) && x >= 0
            ? x
            : throw new BenchUsageException($"{key} needs a number >= 0, not '{v}'");

    private static int Int(string key, string v, int min = 1) =>
        int.TryParse(v, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) && x >= min
            ? x
            : throw new BenchUsageException($"{key} needs an integer >= {min}, not '{v}'");

    private static bool Bool(string key, string v) => v.ToLowerInvariant() switch
    {
        "true" or "1" or "yes" => true,
        "false" or "0" or "no" => false,
        _ => throw new BenchUsageException($"{key} needs true or false, not '{v}'"),
    };
}

/// <summary>The shape of <c>--layer</c>: batch, tokens, width, heads (the head width is d / K).</summary>
internal sealed record LayerShape(int Batch, int Tokens, int Dim, int Heads)
{
    public static LayerShape Parse(string v)
    {
        var parts = v.Split(',', StringSplitOptions.TrimEntries);
        if (parts.Length != 4 || !parts.All(p => int.TryParse(p, NumberStyles.Integer, CultureInfo.InvariantCulture, out int x) && x >= 1))
            throw new BenchUsageException($"--layer needs B,n,d,K (four integers >= 1), not '{v}'");
        var n = parts.Select(p => int.Parse(p, CultureInfo.InvariantCulture)).ToArray();
        if (n[2] % n[3] != 0)
            throw new BenchUsageException($"--layer: width {n[2]} is not divisible by {n[3]} heads");
        return new LayerShape(n[0], n[1], n[2], n[3]);
    }

    public override string ToString() => $"B {Batch}, n {Tokens}, d {Dim}, K {Heads}";
}

/// <summary>Bad command line (<see cref="Reason"/> says why) or a request for help (no reason).</summary>
internal sealed class BenchUsageException(string? reason) : Exception(reason ?? "usage requested")
{
    public string? Reason { get; } = reason;
}
