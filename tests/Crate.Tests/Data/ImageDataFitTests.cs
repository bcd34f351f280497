using Crate.Core.Contract;
using Crate.Core.Data.Images;

namespace Crate.Tests.Data;

/// <summary>
/// Core's image-task vocabulary on a schema of its own, as a new image task would declare it (<see cref="ImageKeys"/>,
/// <see cref="ImageDataFit"/>, <see cref="ImageSplits"/>, <see cref="ImageTaskData"/>), on tiny CIFAR folders.
/// </summary>
public sealed class ImageDataFitTests : IDisposable
{
    private static readonly ConfigKey<long> Global = Key.Int("data.global_size", 224, "the larger crop", 1, 4096);
    private static readonly ConfigKey<long> Local = Key.Int("data.local_size", 96, "a smaller crop", 1, 4096);
    private static readonly ConfigSchema Task = new([.. ImageKeys.Data, .. ImageKeys.Augmentation, ImageKeys.ImageSize, ImageKeys.PatchSize,
        ImageKeys.Channels, ImageKeys.NumClasses]);
    private static readonly ConfigSchema Crops = new([.. ImageKeys.Data, Global, Local,
        ImageKeys.PatchSize.WithDefault(16), ImageKeys.Channels.WithDefault(3)]);

    private readonly TempDir _dir = new();
    private readonly string _cifar10, _cifar100;

    public ImageDataFitTests()
    {
        _cifar10 = DataTestFiles.TinyCifar10(_dir.Path);
        _cifar100 = DataTestFiles.TinyCifar100(_dir.Path);
    }

    public void Dispose() => _dir.Dispose();

    private string Folder(string name) => name switch
    {
        "cifar10" => _cifar10,
        "cifar100" => _cifar100,
        "fashion-mnist" => Path.Combine(DataTestFiles.RepoRoot(), "data", "fashion-mnist"),
        _ => throw new InvalidOperationException(name),
    };

    private DataFit Fit(ConfigSchema schema, string[] explicitKeys, params (string Key, string Value)[] sets)
    {
        var config = schema.Resolve(sets.Select(s => KeyValuePair.Create(s.Key, s.Value)));
        return schema == Crops
            ? ImageDataFit.Fit(config, explicitKeys.ToHashSet(), Folder, new ImageSizeKeys(Global, HalfSize: Local))
            : ImageDataFit.Fit(config, explicitKeys.ToHashSet(), Folder);
    }

    private static long Int(DataFit fit, string key) => (long)fit.Config.Values[key];

    [Fact]
    public void Cifar10_sets_channels_and_size_and_keeps_a_patch_that_divides_it()
    {
        var fit = Fit(Task, [], ("data.dataset", "cifar10"));
        Assert.Equal((3L, 32L, 4L, 10L), (Int(fit, "model.channels"), Int(fit, "model.image_size"), Int(fit, "model.patch_size"), Int(fit, "model.num_classes")));
        Assert.Equal(["model.channels=3: dataset 'cifar10' is RGB (set it with --set to override)",
                      "model.image_size=32: dataset 'cifar10' has 32x32 images (set it with --set to override)"], fit.Notes);
    }

    [Theory]
    [InlineData(7, 8)]     // a 4x4 grid at 28 px stays 4x4 at 32
    [InlineData(14, 16)]   // 2x2
    [InlineData(28, 32)]   // one patch
    public void A_patch_that_no_longer_divides_keeps_the_grid(int patch, int expected)
    {
        var fit = Fit(Task, [], ("data.dataset", "cifar10"), ("model.patch_size", $"{patch}"));
        Assert.Equal(expected, Int(fit, "model.patch_size"));
        Assert.Contains(fit.Notes, n => n.StartsWith($"model.patch_size={expected}: keeps the", StringComparison.Ordinal));
    }

    [Fact]
    public void Without_a_grid_that_fits_the_patch_becomes_the_nearest_divisor()
    {
        Assert.Equal((14, "the divisor of 28 nearest the 12 px patch"), ImageDataFit.FitPatch(28, 96, 12));   // 8x8 does not fit 28
        Assert.Equal(4, ImageDataFit.FitPatch(32, 30, 6).Patch);                                          // 4 and 8 are as near: the smaller
        Assert.Equal(8, ImageDataFit.FitPatch(32, 28, 7).Patch);
    }

    [Fact]
    public void Explicit_keys_are_kept_and_only_a_contradiction_fails()
    {
        // An explicit size is no contradiction (images are resized to it), and nothing else follows then.
        var fit = Fit(Task, ["model.image_size"], ("data.dataset", "cifar10"), ("model.image_size", "64"), ("model.patch_size", "7"));
        Assert.Equal((64L, 7L), (Int(fit, "model.image_size"), Int(fit, "model.patch_size")));
        // An explicit patch stays, even one that does not divide: the task's shape check names it.
        fit = Fit(Task, ["model.patch_size"], ("data.dataset", "cifar10"), ("model.patch_size", "5"));
        Assert.Equal((32L, 5L), (Int(fit, "model.image_size"), Int(fit, "model.patch_size")));
        // 3 channels on grey images is a conversion, not a contradiction.
        fit = Fit(Task, ["model.channels"], ("data.dataset", "fashion-mnist"), ("model.channels", "3"));
        Assert.Equal(3L, Int(fit, "model.channels"));
        Assert.Empty(fit.Notes);

        var e = Assert.Throws<ConfigException>(() => Fit(Task, ["model.channels"], ("data.dataset", "cifar10"), ("model.channels", "1")));
        Assert.StartsWith("config key 'model.channels' is 1 (set explicitly), but dataset 'cifar10'", e.Message);
        e = Assert.Throws<ConfigException>(() => Fit(Task, ["model.num_classes"], ("data.dataset", "cifar100"), ("model.num_classes", "10")));
        Assert.StartsWith("config key 'model.num_classes' is 10 (set explicitly), but dataset 'cifar100'", e.Message);
        Assert.EndsWith("has 100 classes; drop the --set or set model.num_classes=100", e.Message);
    }

    [Fact]
    public void Classes_follow_the_data_and_data_that_already_fits_changes_nothing()
    {
        var fit = Fit(Task, [], ("data.dataset", "cifar100"));
        Assert.Equal(100L, Int(fit, "model.num_classes"));
        Assert.Contains("model.num_classes=100: dataset 'cifar100' has 100 classes (set it with --set to override)", fit.Notes);

        var config = Task.Resolve();                                            // fashion-mnist, 28 px, 1 channel, 10 classes
        fit = ImageDataFit.Fit(config, new HashSet<string>(), Folder);
        Assert.Same(config, fit.Config);
        Assert.Empty(fit.Notes);
    }

    [Theory]
    [InlineData(224, 96, 16, 32, 16, 16)]   // dino's defaults: 16 divides 32 and stays; local = half
    [InlineData(28, 14, 7, 32, 8, 16)]      // its smoke/small presets: the 4x4 grid kept with 8 px patches
    [InlineData(28, 14, 14, 32, 16, 16)]    // local 16 = one patch
    public void A_half_size_follows_as_half_the_side_in_whole_patches(int global, int local, int patch, int side, int fittedPatch, int fittedLocal)
    {
        var fit = Fit(Crops, [], ("data.dataset", "cifar10"), ("data.global_size", $"{global}"), ("data.local_size", $"{local}"), ("model.patch_size", $"{patch}"));
        Assert.Equal((side, fittedPatch, fittedLocal), ((int)Int(fit, "data.global_size"), (int)Int(fit, "model.patch_size"), (int)Int(fit, "data.local_size")));
        Assert.DoesNotContain("model.num_classes", fit.Config.Values.Keys);    // no class head, nothing to fit
        Assert.Equal(3L, Int(fit, "model.channels"));

        var kept = Fit(Crops, ["data.local_size"], ("data.dataset", "cifar10"), ("data.local_size", "24"));
        Assert.Equal((32L, 24L), (Int(kept, "data.global_size"), Int(kept, "data.local_size")));
    }

    [Fact]
    public void Task_data_loads_the_fitted_cifar_at_its_own_size_and_checks_the_classes()
    {
        var config = Fit(Task, [], ("data.dataset", "cifar10"), ("data.train_limit", "20")).Config;
        var data = ImageTaskData.Load(config, _cifar10, channels: 3, imageSize: 32, numClasses: 10);
        Assert.Equal((20, 10, 3), (data.Train.Count, data.Test.Count, data.Stats.Channels));
        Assert.Equal(3 * 32 * 32, data.TestPipeline.Apply(data.Test.GetImage(0), new Crate.Core.Data.DataRng(0)).Length);
        Assert.Empty(data.Splits.TestGeometry(32));                              // CIFAR's own size: no resize
        Assert.Equal(2, data.Splits.TestGeometry(28).Count);                     // another size: resize + centre crop
        Assert.Equal(3 * 28 * 28, ImageTaskData.Load(config, _cifar10, 3, 28, 10).TrainPipeline.Apply(data.Train.GetImage(3), new Crate.Core.Data.DataRng(1)).Length);

        var e = Assert.Throws<ConfigException>(() => ImageSplits.Load(config, _cifar10, channels: 1, numClasses: null));
        Assert.Contains("'model.channels' is 1 but dataset 'cifar10' is RGB", e.Message);
        e = Assert.Throws<ConfigException>(() => ImageSplits.Load(config, _cifar10, channels: 3, numClasses: 100));
        Assert.Contains("'model.num_classes' is 100, but dataset 'cifar10'", e.Message);
    }
}
