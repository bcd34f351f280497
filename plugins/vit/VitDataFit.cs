using Crate.Core.Contract;
using Crate.Core.Data.Images;

namespace Crate.Plugins.Vit;

/// <summary>
/// Fits the data-describing keys to the configured dataset (<see cref="IDataFittedConfig"/>): <c>model.channels</c>
/// follows the dataset's colour (3 for RGB sets, 1 for greyscale ones), <c>model.num_classes</c> its classes, and
/// for a dataset of one fixed size (MNIST-like 28 px, CIFAR 32 px) <c>model.image_size</c> its side, with
/// <c>model.patch_size</c> kept when it divides the new side and otherwise set to keep the preset's grid of
/// patches. Keys the user set with <c>--set</c> are kept; one that contradicts the data (channels 1 on RGB
/// data, classes other than the dataset's) is a <see cref="ConfigException"/> before anything runs. An
/// explicit image size other than the data's is not a contradiction: the images are resized to it.
/// </summary>
public static class VitDataFit
{
    /// <summary>The fitted config and one note per key that followed the data.</summary>
    public static DataFit Fit(ResolvedConfig config, IReadOnlySet<string> explicitKeys, Func<string, string> dataDirectory)
    {
        string name = config.Get(VitKeys.Dataset);
        string dir = dataDirectory(name);
        var (classes, side) = Describe(name, dir);
        int rgb = ImageDatasets.Stats(name).Channels;
        var changes = new List<(string Key, string Value)>();
        var notes = new List<string>();
        bool Explicit(ConfigKey key) => explicitKeys.Contains(key.Name);
        void Follow(ConfigKey key, long value, string why)
        {
            changes.Add((key.Name, value.ToString(System.Globalization.CultureInfo.InvariantCulture)));
            notes.Add($"{key.Name}={value}: {why} (set it with --set to override)");
        }

        int channels = config.GetInt(VitKeys.Channels);
        if (channels != rgb)
        {
            if (!Explicit(VitKeys.Channels)) Follow(VitKeys.Channels, rgb, $"dataset '{name}' is {(rgb == 3 ? "RGB" : "greyscale")}");
            else if (rgb == 3)
                throw new ConfigException($"config key 'model.channels' is {channels} (set explicitly), but dataset '{name}' in {dir} is RGB with " +
                                          "per-channel statistics; drop the --set or set model.channels=3");
        }

        int numClasses = config.GetInt(VitKeys.NumClasses);
        if (classes > 0 && numClasses != classes)
        {
            if (Explicit(VitKeys.NumClasses))
                throw new ConfigException($"config key 'model.num_classes' is {numClasses} (set explicitly), but dataset '{name}' in {dir} has " +
                                          $"{classes} classes; drop the --set or set model.num_classes={classes}");
            Follow(VitKeys.NumClasses, classes, $"dataset '{name}' has {classes} classes");
        }

        int image = config.GetInt(VitKeys.ImageSize), patch = config.GetInt(VitKeys.PatchSize);
        if (side > 0 && image != side && !Explicit(VitKeys.ImageSize))
        {
            Follow(VitKeys.ImageSize, side, $"dataset '{name}' has {side}x{side} images");
            if (side % patch != 0 && !Explicit(VitKeys.PatchSize) && image % patch == 0 && side % (image / patch) == 0)
                Follow(VitKeys.PatchSize, side / (image / patch), $"keeps the {image / patch}x{image / patch} grid of patches at {side} px");
        }
        return new DataFit(changes.Count == 0 ? config : config.With([.. changes]), notes);
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
        return test is ImageDataset fixedSize && fixedSize.Height == fixedSize.Width
            ? (test.ClassNames.Count, fixedSize.Height)
            : (test.ClassNames.Count, 0);
    }
}
