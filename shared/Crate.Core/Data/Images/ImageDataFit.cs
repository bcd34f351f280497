using System.Globalization;
using Crate.Core.Contract;

namespace Crate.Core.Data.Images;

/// <summary>
/// Which size keys of an image task follow a fixed-size dataset: <paramref name="Size"/> is the input side
/// (<c>model.image_size</c>; dino's global crop <c>data.global_size</c>), <paramref name="HalfSize"/> an optional
/// smaller crop that follows as half of it (dino's local crop <c>data.local_size</c>). <c>model.patch_size</c> must
/// divide both.
/// </summary>
public sealed record ImageSizeKeys(ConfigKey<long> Size, ConfigKey<long>? HalfSize = null)
{
    /// <summary><c>model.image_size</c> alone (vit, mae).</summary>
    public static ImageSizeKeys Model { get; } = new(ImageKeys.ImageSize);
}

/// <summary>
/// Fits an image task's data-describing keys to its configured dataset (<see cref="IDataFittedConfig"/>); every key a
/// user set with <c>--set</c> is kept. The rules, in order:
/// <list type="bullet">
/// <item><c>model.channels</c> follows the dataset's colour (3 for RGB sets, 1 for greyscale ones); an explicit 1 on
/// RGB data is a <see cref="ConfigException"/> (an explicit 3 on grey data is not: the images are converted).</item>
/// <item><c>model.num_classes</c>, in a task that has it, follows the dataset's classes; an explicit other count is a
/// <see cref="ConfigException"/>.</item>
/// <item>For a dataset of one fixed square size (28 px MNIST-like sets, 32 px CIFAR) the size key
/// (<see cref="ImageSizeKeys.Size"/>) takes that side. When it changed and <c>model.patch_size</c> no longer divides
/// it, the patch follows (unless set): to keep the config's grid of patches when the new side allows, else to the
/// divisor of the side nearest the old patch. Then <see cref="ImageSizeKeys.HalfSize"/>, if any and not set, becomes
/// half the side rounded down to a multiple of the patch (one patch at least). An explicit size other than the data's
/// is no contradiction (the images are resized to it), and nothing else follows then.</item>
/// </list>
/// ImageFolder sets have no fixed size; their classes are the class folders of <c>train/</c>.
/// </summary>
public static class ImageDataFit
{
    /// <summary>The rules with <c>model.image_size</c> as the size key.</summary>
    public static DataFit Fit(ResolvedConfig config, IReadOnlySet<string> explicitKeys, Func<string, string> dataDirectory) =>
        Fit(config, explicitKeys, dataDirectory, ImageSizeKeys.Model);

    /// <summary>The fitted config and one note per key that followed the data.</summary>
    public static DataFit Fit(ResolvedConfig config, IReadOnlySet<string> explicitKeys, Func<string, string> dataDirectory, ImageSizeKeys sizes)
    {
        string name = config.Get(ImageKeys.Dataset);
        string dir = dataDirectory(name);
        var (classes, side) = Describe(name, dir);
        int rgb = ImageDatasets.Stats(name).Channels;
        var changes = new List<(string Key, string Value)>();
        var notes = new List<string>();
        bool Explicit(ConfigKey key) => explicitKeys.Contains(key.Name);
        void Follow(ConfigKey key, long value, string why)
        {
            changes.Add((key.Name, value.ToString(CultureInfo.InvariantCulture)));
            notes.Add($"{key.Name}={value}: {why} (set it with --set to override)");
        }

        int channels = config.GetInt(ImageKeys.Channels);
        if (channels != rgb)
        {
            if (!Explicit(ImageKeys.Channels)) Follow(ImageKeys.Channels, rgb, $"dataset '{name}' is {(rgb == 3 ? "RGB" : "greyscale")}");
            else if (rgb == 3)
                throw new ConfigException($"config key 'model.channels' is {channels} (set explicitly), but dataset '{name}' in {dir} is RGB with " +
                                          "per-channel statistics; drop the --set or set model.channels=3");
        }

        if (config.Schema.Contains(ImageKeys.NumClasses.Name) && classes > 0 && config.GetInt(ImageKeys.NumClasses) is var numClasses && numClasses != classes)
        {
            if (Explicit(ImageKeys.NumClasses))
                throw new ConfigException($"config key 'model.num_classes' is {numClasses} (set explicitly), but dataset '{name}' in {dir} has " +
                                          $"{classes} classes; drop the --set or set model.num_classes={classes}");
            Follow(ImageKeys.NumClasses, classes, $"dataset '{name}' has {classes} classes");
        }

        int size = config.GetInt(sizes.Size), patch = config.GetInt(ImageKeys.PatchSize);
        if (side > 0 && size != side && !Explicit(sizes.Size))
        {
            Follow(sizes.Size, side, $"dataset '{name}' has {side}x{side} images");
            if (side % patch != 0 && !Explicit(ImageKeys.PatchSize))
            {
                var (fitted, why) = FitPatch(side, size, patch);
                Follow(ImageKeys.PatchSize, fitted, why);
                patch = fitted;
            }
            if (sizes.HalfSize is { } half && !Explicit(half))
            {
                int value = Math.Max(patch, side / 2 / patch * patch);
                if (value != config.GetInt(half))
                    Follow(half, value, $"half the {side} px of {sizes.Size.Name}, a multiple of the {patch} px patch");
            }
        }
        return new DataFit(changes.Count == 0 ? config : config.With([.. changes]), notes);
    }

    /// <summary>
    /// A patch side that divides <paramref name="side"/>: the one keeping the grid of <paramref name="patch"/>-px
    /// patches over <paramref name="size"/> px when both divide evenly, else the divisor nearest <paramref name="patch"/>
    /// (the smaller on a tie).
    /// </summary>
    public static (int Patch, string Why) FitPatch(int side, int size, int patch)
    {
        if (size % patch == 0 && side % (size / patch) == 0)
        {
            int grid = size / patch;
            return (side / grid, $"keeps the {grid}x{grid} grid of patches at {side} px");
        }
        int nearest = Enumerable.Range(1, side).Where(d => side % d == 0).MinBy(d => (Math.Abs(d - patch), d));
        return (nearest, $"the divisor of {side} nearest the {patch} px patch");
    }

    /// <summary>The dataset's number of classes (0: unknown) and its fixed square side (0: sizes vary, e.g. ImageFolder).</summary>
    private static (int Classes, int Side) Describe(string name, string dir)
    {
        if (name == "imagefolder")
        {
            string train = Path.Combine(dir, "train");
            return (Directory.Exists(train) ? Directory.GetDirectories(train).Length : 0, 0);
        }
        var test = ImageDatasets.Load(name, dir, train: false);
        return (test.ClassNames.Count, ImageSplits.FixedSide(test));
    }
}
