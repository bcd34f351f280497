using Crate.Core.Contract;
using Crate.Results;

namespace Crate.Results.Tests;

/// <summary>Records with fixed, mocked environment fields and timestamps, so stored and exported data are stable.</summary>
public static class StoreFixtures
{
    public static readonly DateTime Created = new(2025, 1, 2, 3, 4, 5, DateTimeKind.Utc);

    public static EpochRow Epoch(int epoch) => new(epoch, epoch * 100L, new Dictionary<string, double>
    {
        ["train_loss"] = 2.0 / (epoch + 1),
        ["val_acc"] = 10.0 + epoch * 0.5,
    });

    public static RunRecord Run(string task, string model, ModelRole role, int seed, RunStatus status,
        Dictionary<string, double>? metrics = null, string preset = "small")
    {
        var config = $$"""{"model.depth":2,"train.epochs":3,"model.name":"{{model}}"}""";
        return new RunRecord
        {
            Id = RunKeys.Compute(task, model, config, seed),
            Task = task,
            Model = model,
            Preset = preset,
            Seed = seed,
            Role = role,
            Dataset = "Fashion-MNIST",
            ConfigJson = RunKeys.CanonicalJson(config),
            Code = new CodeVersion { Commit = "0123456789abcdef0123456789abcdef01234567", Dirty = false, Describe = "v0.1-3-g0123456" },
            Environment = new EnvironmentInfo
            {
                Os = "Debian GNU/Linux 12", DotNet = "10.0.0", TorchSharp = "0.107.0", LibTorch = "2.10.0",
                Device = "cpu", Threads = 2, Machine = "test-machine", Allocator = "glibc",
            },
            Status = status,
            Error = status == RunStatus.Failed ? "loss became NaN at step 40" : null,
            Attempts = 1,
            CreatedUtc = Created,
            StartedUtc = Created.AddSeconds(1),
            FinishedUtc = status == RunStatus.Finished ? Created.AddSeconds(61) : null,
            TrainSeconds = 60.5,
            Metrics = metrics ?? new Dictionary<string, double> { ["val_acc"] = 80 + seed, ["val_loss"] = 0.5 - seed * 0.01 },
            MetricInfo =
            [
                MetricInfoRecord.From(new MetricInfo("val_acc", "top-1 validation accuracy", true, "%")),
                MetricInfoRecord.From(new MetricInfo("val_loss", "validation cross-entropy", false, "nats")),
            ],
            PaperValues =
            [
                PaperValueRecord.From(new PaperReference("crate", "val_acc", 66.7, "CRATE-T, ImageNet-1K", "Table 1")),
                PaperValueRecord.From(new PaperReference("vit", "val_acc", 72.2, "ViT-T, ImageNet-1K", "Table 1")),
            ],
            Artifacts = [ArtifactRecord.From(new Artifact("attention", "attention.png", "attention maps of layer 2"))],
            RunDirectory = $"/runs/{task}/{model}-s{seed}",
        };
    }

    /// <summary>A fresh empty folder under the system temp folder, deleted on dispose.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder() => Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "crate-results-tests-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            try { Directory.Delete(Path, recursive: true); } catch (IOException) { }
        }
    }
}
