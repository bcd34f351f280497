using Crate.Core.Contract;

namespace Crate.Core.Data.Images;

/// <summary>
/// The config keys every image task shares (vit, mae, dino), defined once so a user sets them alike everywhere and a
/// new image task gets them by listing them: the dataset and its subsets, the loader, the input shape keys that
/// follow the data (<see cref="ImageDataFit"/>) and the supervised augmentation. A task whose own default differs
/// (mae's 7 px patch, dino's 3 channels) declares the same key with <see cref="ConfigKey{T}.WithDefault"/>.
/// </summary>
public static class ImageKeys
{
    /// <summary><c>data.dataset</c>: one of <see cref="ImageTaskDatasets.Names"/>.</summary>
    public static readonly ConfigKey<string> Dataset = Key.Choice("data.dataset", "fashion-mnist",
        "image dataset (its folder comes from --data NAME=DIR or the shipped default); channels, classes and a fixed image size follow it",
        [.. ImageTaskDatasets.Names]);
    /// <summary><c>data.train_limit</c>.</summary>
    public static readonly ConfigKey<long> TrainLimit = Key.Int("data.train_limit", 0,
        "use only this many training images, evenly spaced over the split (0: all)", 0);
    /// <summary><c>data.test_limit</c>.</summary>
    public static readonly ConfigKey<long> TestLimit = Key.Int("data.test_limit", 0,
        "use only this many test images, evenly spaced over the split (0: all)", 0);
    /// <summary><c>data.workers</c>.</summary>
    public static readonly ConfigKey<long> Workers = Key.Int("data.workers", 1,
        "loader threads (prefetching: each prepares whole batches ahead; otherwise they share the samples of one batch)", 1, 64);
    /// <summary><c>data.prefetch</c>.</summary>
    public static readonly ConfigKey<bool> Prefetch = Key.Bool("data.prefetch", true,
        "prepare batches ahead on loader threads into reused buffers (off: on the training thread)");

    /// <summary><c>data.random_resized_crop</c>.</summary>
    public static readonly ConfigKey<bool> RandomResizedCrop = Key.Bool("data.random_resized_crop", true,
        "training augmentation: RandomResizedCrop(image_size, scale=(crop_min_scale, 1)); off: resize/centre-crop as at test time");
    /// <summary><c>data.crop_min_scale</c> (torchvision's 0.08; mae starts from MAE's 0.2).</summary>
    public static readonly ConfigKey<double> CropMinScale = Key.Float("data.crop_min_scale", 0.08,
        "smallest area fraction of a random resized crop (torchvision: 0.08)", 0.01, 1);
    /// <summary><c>data.hflip</c>.</summary>
    public static readonly ConfigKey<double> HorizontalFlip = Key.Float("data.hflip", 0.5,
        "training augmentation: probability of a horizontal flip (0: off)", 0, 1);

    /// <summary><c>model.image_size</c>: follows a dataset of one fixed size unless set.</summary>
    public static readonly ConfigKey<long> ImageSize = Key.Int("model.image_size", 28,
        "input side in pixels (images are square and resized to it); follows a fixed-size dataset unless set", 1, 4096);
    /// <summary><c>model.patch_size</c>: must divide the input side; follows a fitted image size unless set.</summary>
    public static readonly ConfigKey<long> PatchSize = Key.Int("model.patch_size", 4,
        "patch side P; must divide image_size (when image_size follows the data, P follows it too unless set)", 1, 4096);
    /// <summary><c>model.channels</c>: follows the dataset's colour unless set.</summary>
    public static readonly ConfigKey<long> Channels = Key.Int("model.channels", 1,
        "input channels (1 grey, 3 RGB); images are converted; follows the dataset unless set (1 on RGB data is an error)", 1, 3);
    /// <summary><c>model.num_classes</c>: must equal the dataset's and follows it unless set.</summary>
    public static readonly ConfigKey<long> NumClasses = Key.Int("model.num_classes", 10,
        "classes of the head and the probes; follows the dataset unless set, and must equal the dataset's", 1, 100000);

    /// <summary>The dataset and loader keys: <c>data.dataset</c>, the two limits, <c>data.workers</c>, <c>data.prefetch</c>.</summary>
    public static IReadOnlyList<ConfigKey> Data { get; } = [Dataset, TrainLimit, TestLimit, Workers, Prefetch];

    /// <summary>The supervised augmentation keys <see cref="ImageTaskData"/> reads: random resized crop, its smallest area, flip.</summary>
    public static IReadOnlyList<ConfigKey> Augmentation { get; } = [RandomResizedCrop, CropMinScale, HorizontalFlip];
}
