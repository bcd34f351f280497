using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Plugins.Dino;
using Crate.Plugins.Mae;
using Crate.Plugins.Vit;

namespace Crate.Tests.Plugins;

/// <summary>
/// vit, mae and dino speak Core's image-task vocabulary: one dataset list, one set of data and loader keys, the input
/// keys under one name, type and range (a task may start one from its own default), and the fit to the data.
/// </summary>
public class ImageTaskVocabularyTests
{
    public static TheoryData<string> Tasks => new() { "vit", "mae", "dino" };

    private static ICrateTask Get(string name) => name switch
    {
        "vit" => new VitTask(),
        "mae" => new MaeTask(),
        _ => new DinoTask(),
    };

    [Theory]
    [MemberData(nameof(Tasks))]
    public void The_task_declares_Cores_datasets_and_keys(string name)
    {
        var task = Get(name);
        Assert.Same(ImageTaskDatasets.All, task.Datasets);
        Assert.IsAssignableFrom<IImageTask>(task);
        foreach (var key in ImageKeys.Data) Assert.Same(key, task.Schema.Get(key.Name));

        var config = task.Schema.Resolve(task.Presets.Single(p => p.Name == "small").ValuesFor(task.Models[0].Name),
            [KeyValuePair.Create("data.dataset", "cifar100")]);
        Assert.Equal(["cifar100"], task.RequiredDatasets(config));

        ConfigKey[] shared = [ImageKeys.Channels, ImageKeys.PatchSize, ImageKeys.ImageSize, ImageKeys.NumClasses, .. ImageKeys.Augmentation];
        foreach (var key in shared.Where(k => task.Schema.Contains(k.Name)))
        {
            var own = task.Schema.Get(key.Name);
            Assert.Equal((key.Type, key.Min, key.Max, key.Choices), (own.Type, own.Min, own.Max, own.Choices));
        }
    }
}
