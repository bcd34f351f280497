using Crate.Tests.Data;

namespace Crate.Tests.Host;

/// <summary>
/// Data as users have them, through the real host: <c>reproduce vit --set data.dataset=cifar10 --data cifar10=DIR</c>
/// on a tiny CIFAR-10 binary folder written here. Channels, classes and the fixed image size follow the data unless
/// set; a contradiction between an explicit key and the data is reported before anything runs.
/// </summary>
[Collection("host processes")]
public class HostDataFitTests
{
    /// <summary>A CIFAR-10 binary folder: five training batches of 8 records and a test batch of 10, labels cycling over 0..9.</summary>
    private static string TinyCifar10(string root)
    {
        string dir = Path.Combine(root, "cifar-10-batches-bin");
        Directory.CreateDirectory(dir);
        for (int b = 1; b <= 5; b++)
            File.WriteAllBytes(Path.Combine(dir, $"data_batch_{b}.bin"), DataTestFiles.CifarRecords(8, i => [(byte)((b * 8 + i) % 10)]));
        File.WriteAllBytes(Path.Combine(dir, "test_batch.bin"), DataTestFiles.CifarRecords(10, i => [(byte)i]));
        return dir;
    }

    private static string[] Vit(string outDir, string cifar, string preset, params string[] extra) =>
        ["reproduce", "vit", "--preset", preset, "--models", "crate", "--seeds", "0", "--threads", "1", "--out", outDir,
         "--set", "data.dataset=cifar10", "--data", $"cifar10={cifar}", .. extra];

    [Fact]
    public void Cifar10_runs_with_channels_and_image_size_taken_from_the_data()
    {
        var outDir = HostProcess.TempDir("cifar-fit");
        string cifar = TinyCifar10(outDir);
        var r = HostProcess.Run(Vit(outDir, cifar, "smoke", "--set", "train.batch_size=8", "--set", "eval.attention_images=1"), TimeSpan.FromMinutes(4));
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("vit/crate: model.channels=3: dataset 'cifar10' is RGB", r.Stdout);
        Assert.Contains("vit/crate: model.image_size=32: dataset 'cifar10' has 32x32 images", r.Stdout);
        Assert.DoesNotContain("model.patch_size=", r.Stdout);                // 4 divides 32: the patch stays
        Assert.DoesNotContain("model.num_classes=", r.Stdout);               // 10 already

        string config = File.ReadAllText(Assert.Single(Directory.GetFiles(Path.Combine(outDir, "vit", "crate"), "config.json", SearchOption.AllDirectories)));
        Assert.Contains("\"model.channels\": 3", config);
        Assert.Contains("\"model.image_size\": 32", config);
    }

    [Fact]
    public void The_small_preset_keeps_its_grid_of_patches_at_the_datas_size()
    {
        var outDir = HostProcess.TempDir("cifar-grid");
        var r = HostProcess.Run(Vit(outDir, TinyCifar10(outDir), "small", "--dry-run"));
        Assert.True(r.ExitCode == 0, r.ToString());
        // small: 28 px in a 4x4 grid of 7 px patches; 7 does not divide 32, so the patch becomes 8.
        Assert.Contains("vit/crate: model.patch_size=8: keeps the 4x4 grid of patches at 32 px", r.Stdout);
        Assert.Contains("model.patch_size=8", r.Stdout.Split('\n').Single(l => l.TrimStart().StartsWith("config:", StringComparison.Ordinal)));
    }

    [Theory]
    [InlineData("model.channels=1", "config key 'model.channels' is 1 (set explicitly), but dataset 'cifar10'")]
    [InlineData("model.num_classes=100", "config key 'model.num_classes' is 100 (set explicitly), but dataset 'cifar10'")]
    public void An_explicit_key_that_contradicts_the_data_fails_before_anything_runs(string set, string message)
    {
        var outDir = HostProcess.TempDir("cifar-contradiction");
        var r = HostProcess.Run(Vit(outDir, TinyCifar10(outDir), "smoke", "--set", set));
        Assert.Equal(2, r.ExitCode);
        var line = Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.StartsWith("error: vit/crate: " + message, line);
        Assert.False(File.Exists(Path.Combine(outDir, "results.db")));       // nothing recorded, not even a failed run
    }
}
