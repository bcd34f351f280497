using System.Globalization;

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

    public const string Usage = """
        Training-step throughput and memory of CRATE and ViT (forward + cross-entropy + backward + AdamW).
        usage: dotnet run -c Release --project bench -- [options]
          --model crate|vit|both   (both)      --dim 192 --depth 6 --heads 6
          --image 28 --patch 4 --channels 1 --classes 10
          --batch 128 --threads 2 --steps 50 --warmup 5
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
                "--warmup" => o with { Warmup = Int(key, v, min: 0) },
                "--fast" => o with { Fast = Bool(key, v) },
                "--rss-every" => o with { RssEvery = Int(key, v, min: 0) },
                "--matmul" => o with { Matmul = Bool(key, v) },
                _ => throw new BenchUsageException($"unknown option {key}"),
            };
        }
        return o;
    }

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
