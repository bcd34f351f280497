using System.Globalization;
using Crate.Core.Training;

namespace Crate.Bench;

/// <summary>Command-line options of the training-step benchmark.</summary>
internal sealed record BenchOptions
{
    public string Model { get; init; } = "both";
    public int Dim { get; init; } = 192;
    public int Depth { get; init; } = 6;
    public int Heads { get; init; } = 6;
    public int Image { get; init; } = 28;
    public int Patch { get; init; } = 4;
    public int Channels { get; init; } = 1;
    public int Classes { get; init; } = 10;
    public int Batch { get; init; } = 128;
    public int Threads { get; init; } = 2;
    public int Steps { get; init; } = 50;
    public int Warmup { get; init; } = 5;
    public bool Fast { get; init; } = true;
    public int RssEvery { get; init; }
    public bool Matmul { get; init; } = true;
    public OptimizerKind Optimizer { get; init; } = OptimizerKind.AdamW;
    public double LearningRate { get; init; } = 1e-3;
    public double WeightDecay { get; init; } = 0.05;
    public double GradClip { get; init; }
    public int MicroBatch { get; init; }
    public Precision Precision { get; init; } = Precision.Fp32;

    /// <summary>Micro-batch in effect (0 on the command line: the whole batch).</summary>
    public int EffectiveMicroBatch => MicroBatch > 0 ? MicroBatch : Batch;

    /// <summary>
    /// The recipe the trainer runs for <paramref name="steps"/> optimizer steps: the optimizer, learning rate and
    /// weight decay given (decay on matrices only, the plugins' rule), clipping and accumulation, a constant
    /// learning rate (no warm-up), no evaluation and one checkpoint at the end (after the timed steps).
    /// </summary>
    public TrainerOptions ToTrainerOptions(int steps) => new()
    {
        Optimizer = Optimizer, LearningRate = LearningRate, MinLearningRate = LearningRate, WeightDecay = WeightDecay,
        GradClip = GradClip, BatchSize = Batch, MicroBatchSize = EffectiveMicroBatch,
        MaxSteps = steps, EvalEverySteps = steps, KeepCheckpoints = 1, Precision = Precision,
    };

    public const string Usage = """
        Training-step throughput and memory of CRATE and ViT: the real Trainer's step (forward + cross-entropy +
        backward + gradient norm/clip + optimizer update) on synthetic images, timed between its StepCompleted events.
        usage: dotnet run -c Release --project bench -- [options]
          --model crate|vit|both   (both)      --dim 192 --depth 6 --heads 6
          --image 28 --patch 4 --channels 1 --classes 10
          --batch 128 --threads 2 --steps 50 --warmup 5   (warm-up >= 1: the first step also times the trainer's setup)
          --optimizer adamw|lion   (adamw)     --lr 1e-3 --weight-decay 0.05 --grad-clip 0 (0 = off)
          --micro-batch N          (0 = the whole batch; must divide --batch: accumulation = batch / micro-batch)
          --precision fp32|bf16    (fp32; bf16: matmuls and attention in bfloat16, weights and optimizer state float32)
          --fast true|false        (true: ISTA one-product and SDPA paths; false: the plain formulas)
          --rss-every N            (print RSS every N steps; 0 = off)
          --matmul true|false      (measure the fp32 matmul rate; true)
        """;

    public static BenchOptions Parse(string[] args)
    {
        var o = new BenchOptions();
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
                "--model" => o with { Model = v is "crate" or "vit" or "both" ? v : throw new BenchUsageException($"--model must be crate, vit or both, not '{v}'") },
                "--dim" => o with { Dim = Int(key, v) },
                "--depth" => o with { Depth = Int(key, v) },
                "--heads" => o with { Heads = Int(key, v) },
                "--image" => o with { Image = Int(key, v) },
                "--patch" => o with { Patch = Int(key, v) },
                "--channels" => o with { Channels = Int(key, v) },
                "--classes" => o with { Classes = Int(key, v) },
                "--batch" => o with { Batch = Int(key, v) },
                "--threads" => o with { Threads = Int(key, v) },
                "--steps" => o with { Steps = Int(key, v) },
                "--warmup" => o with { Warmup = Int(key, v) },
                "--fast" => o with { Fast = Bool(key, v) },
                "--rss-every" => o with { RssEvery = Int(key, v, min: 0) },
                "--matmul" => o with { Matmul = Bool(key, v) },
                "--optimizer" => o with { Optimizer = v switch
                {
                    "adamw" => OptimizerKind.AdamW,
                    "lion" => OptimizerKind.Lion,
                    _ => throw new BenchUsageException($"--optimizer must be adamw or lion, not '{v}'"),
                } },
                "--lr" => o with { LearningRate = Real(key, v, positive: true) },
                "--weight-decay" => o with { WeightDecay = Real(key, v) },
                "--grad-clip" => o with { GradClip = Real(key, v) },
                "--micro-batch" => o with { MicroBatch = Int(key, v, min: 0) },
                "--precision" => o with { Precision = v switch { "fp32" => Precision.Fp32, "bf16" => Precision.Bf16, _ => throw new BenchUsageException($"--precision must be fp32 or bf16, not '{v}'") } },
                _ => throw new BenchUsageException($"unknown option {key}"),
            };
        }
        if (o.Batch % o.EffectiveMicroBatch != 0)
            throw new BenchUsageException($"--micro-batch {o.MicroBatch} must divide --batch {o.Batch}");
        return o;
    }

    private static double Real(string key, string v, bool positive = false) =>
        double.TryParse(v, NumberStyles.Float, CultureInfo.InvariantCulture, out double x) && double.IsFinite(x) && (positive ? x > 0 : x >= 0)
            ? x
            : throw new BenchUsageException($"{key} needs a number {(positive ? "> 0" : ">= 0")}, not '{v}'");

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

/// <summary>Bad command line (<see cref="Reason"/> says why) or a request for help (no reason).</summary>
internal sealed class BenchUsageException(string? reason) : Exception(reason ?? "usage requested")
{
    public string? Reason { get; } = reason;
}
