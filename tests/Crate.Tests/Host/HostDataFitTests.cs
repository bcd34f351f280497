using Crate.Tests.Data;

namespace Crate.Tests.Host;

/// <summary>
/// Data as users have them, through the real host: <c>reproduce vit|mae|dino --set data.dataset=cifar10 --data cifar10=DIR</c>
/// on a tiny CIFAR-10 binary folder written here. Channels, classes, the fixed image size (dino: the crop sizes) and a
/// patch that divides it follow the data unless set (Core's <c>ImageDataFit</c>); a contradiction between an explicit
/// key and the data is reported before anything runs.
/// </summary>
[Collection("host processes")]
public class HostDataFitTests
{
    private static string TinyCifar10(string root) => DataTestFiles.TinyCifar10(root);

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

    private static string[] Task(string task, string outDir, string cifar, params string[] extra) =>
        ["reproduce", task, "--preset", "smoke", "--seeds", "0", "--out", outDir, "--set", "data.dataset=cifar10", "--data", $"cifar10={cifar}",
         "--dry-run", .. extra];

    private static string ConfigLine(string stdout, string run)
    {
        var lines = stdout.Split('\n');
        int at = Array.FindIndex(lines, l => l.TrimStart().StartsWith(run + " (", StringComparison.Ordinal));
        Assert.True(at >= 0, $"no plan line for {run}:\n{stdout}");
        return lines[at + 1].Trim();
    }

    [Theory]
    // vit smoke: 28 px, patch 4 (divides 32, stays), 1 channel, 10 classes.
    [InlineData("vit", "crate,vit", "model.channels=3: dataset 'cifar10' is RGB|model.image_size=32: dataset 'cifar10' has 32x32 images",
        "model.channels=3 model.image_size=32")]
    // mae smoke: 28 px in a 4x4 grid of 7 px patches.
    [InlineData("mae", "crate-mae,mae", "model.channels=3: dataset 'cifar10' is RGB|model.image_size=32: dataset 'cifar10' has 32x32 images|model.patch_size=8: keeps the 4x4 grid of patches at 32 px",
        "model.channels=3 model.image_size=32 model.patch_size=8")]
    // dino smoke: 28 px global and 14 px local crops, patch 7, 1 channel (dino's default channels are 3, so the config line leaves them out).
    [InlineData("dino", "crate,vit", "model.channels=3: dataset 'cifar10' is RGB|data.global_size=32: dataset 'cifar10' has 32x32 images|model.patch_size=8: keeps the 4x4 grid of patches at 32 px|data.local_size=16: half the 32 px of data.global_size, a multiple of the 8 px patch",
        "data.global_size=32 data.local_size=16 model.patch_size=8")]
    public void Every_image_task_plans_cifar10_from_the_dataset_key_alone(string task, string models, string notes, string fitted)
    {
        var outDir = HostProcess.TempDir($"cifar-{task}");
        var r = HostProcess.Run(Task(task, outDir, TinyCifar10(outDir)));
        Assert.True(r.ExitCode == 0, r.ToString());
        foreach (var model in models.Split(','))
        {
            foreach (var note in notes.Split('|')) Assert.Contains($"{task}/{model}: {note} (set it with --set to override)", r.Stdout);
            var config = ConfigLine(r.Stdout, $"{task}/{model}").Split(' ');
            Assert.All(fitted.Split(' '), key => Assert.Contains(key, config));
        }
        Assert.DoesNotContain("model.num_classes=", r.Stdout);               // 10 already
        Assert.False(File.Exists(Path.Combine(outDir, "results.db")));       // a dry run records nothing
    }

    [Fact]
    public void A_patch_set_for_the_datas_size_is_checked_after_the_fit()
    {
        // 16 does not divide the preset's 28 px but divides CIFAR's 32: mae's shape check sees the fitted config.
        var outDir = HostProcess.TempDir("cifar-mae-patch");
        var r = HostProcess.Run(Task("mae", outDir, TinyCifar10(outDir), "--models", "crate", "--set", "model.patch_size=16"));
        Assert.True(r.ExitCode == 0, r.ToString());
        var config = ConfigLine(r.Stdout, "mae/crate-mae").Split(' ');
        Assert.Contains("model.patch_size=16", config);
        Assert.Contains("model.image_size=32", config);

        r = HostProcess.Run(Task("mae", outDir, TinyCifar10(outDir), "--models", "crate", "--set", "model.patch_size=5"));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith("error: mae/crate-mae: ", Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
        Assert.Contains("model.patch_size", r.Stderr);
    }

    [Fact]
    public void Cifar100_gives_mae_its_hundred_classes()
    {
        var outDir = HostProcess.TempDir("cifar100-mae");
        var r = HostProcess.Run(["reproduce", "mae", "--preset", "smoke", "--models", "crate", "--seeds", "0", "--out", outDir,
            "--set", "data.dataset=cifar100", "--data", $"cifar100={DataTestFiles.TinyCifar100(outDir)}", "--dry-run"]);
        Assert.True(r.ExitCode == 0, r.ToString());
        Assert.Contains("mae/crate-mae: model.num_classes=100: dataset 'cifar100' has 100 classes", r.Stdout);
        Assert.Contains("model.num_classes=100", ConfigLine(r.Stdout, "mae/crate-mae").Split(' '));
    }

    [Theory]
    [InlineData("mae", "crate-mae", "model.channels=1", "config key 'model.channels' is 1 (set explicitly), but dataset 'cifar10'")]
    [InlineData("mae", "crate-mae", "model.num_classes=100", "config key 'model.num_classes' is 100 (set explicitly), but dataset 'cifar10'")]
    [InlineData("dino", "crate", "model.channels=1", "config key 'model.channels' is 1 (set explicitly), but dataset 'cifar10'")]
    public void An_explicit_key_that_contradicts_the_data_fails_in_mae_and_dino_too(string task, string model, string set, string message)
    {
        var outDir = HostProcess.TempDir($"cifar-{task}-contradiction");
        var r = HostProcess.Run(Task(task, outDir, TinyCifar10(outDir), "--models", "crate", "--set", set));
        Assert.Equal(2, r.ExitCode);
        Assert.StartsWith($"error: {task}/{model}: " + message, Assert.Single(r.Stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries)));
    }
}
