using Crate.Core.Contract;

namespace Crate.Core.Data.Images;

/// <summary>
/// An image task (vit, mae, dino): a task that lists <see cref="ImageKeys.Data"/> (and the input keys it has) in its
/// schema and declares <c>: IImageTask</c> gets the rest of Core's image-task vocabulary from here: the datasets
/// <c>data.dataset</c> names (<see cref="ImageTaskDatasets"/>), the one it reads, and the fit of channels, classes and
/// a fixed image size to the data (<see cref="ImageDataFit"/>), so <c>--set data.dataset=cifar10</c> is all a user
/// sets. Its <c>Run</c> loads the splits with <see cref="ImageTaskData.Load"/> or <see cref="ImageSplits.Load"/>.
/// The members are defaults a task may replace; they are reached through the interfaces (the host only uses those).
/// </summary>
public interface IImageTask : ICrateTask, IDataFittedConfig
{
    /// <summary><see cref="ImageTaskDatasets.All"/>.</summary>
    IReadOnlyList<DatasetNeed> ICrateTask.Datasets => ImageTaskDatasets.All;

    /// <summary>The configured <c>data.dataset</c>.</summary>
    IReadOnlyList<string> ICrateTask.RequiredDatasets(ResolvedConfig config) => ImageTaskDatasets.Required(config);

    /// <summary>The size keys that follow a fixed-size dataset: <c>model.image_size</c> unless the task says otherwise (dino: its crops).</summary>
    ImageSizeKeys FittedSizes => ImageSizeKeys.Model;

    /// <summary><see cref="ImageDataFit.Fit(ResolvedConfig, IReadOnlySet{string}, Func{string, string}, ImageSizeKeys)"/> with <see cref="FittedSizes"/>.</summary>
    DataFit IDataFittedConfig.FitToData(ResolvedConfig config, IReadOnlySet<string> explicitKeys, Func<string, string> dataDirectory) =>
        ImageDataFit.Fit(config, explicitKeys, dataDirectory, FittedSizes);
}
