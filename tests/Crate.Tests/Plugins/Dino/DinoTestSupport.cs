using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Plugins.Dino;
using Crate.Tests.Plugins.Vit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Tests.Plugins.Dino;

/// <summary>Shared pieces of the dino task tests: configs from presets, runs on the shipped Fashion-MNIST subset, evaluate requests.</summary>
internal static class DinoTestSupport
{
    public static readonly DinoTask TheTask = new();

    /// <summary>
    /// One torch thread, as the host runs with --threads 1: on the shared 2-core machine libtorch's spinning OpenMP
    /// threads made the smoke runs about 10x slower with two (plugins/vit/README.md measured 6x). Both runs of a
    /// resume comparison run under the same setting, so the bit-exact comparison holds.
    /// </summary>
    static DinoTestSupport() => TorchSharp.torch.set_num_threads(1);

    /// <summary>A preset's config for <paramref name="model"/> with <paramref name="sets"/> on top.</summary>
    public static ResolvedConfig Config(string preset, string model, params (string Key, string Value)[] sets) =>
        TheTask.Schema.Resolve(TheTask.Presets.Single(p => p.Name == preset).ValuesFor(model),
            sets.Select(s => KeyValuePair.Create(s.Key, s.Value)));

    /// <summary>A local run context over <paramref name="directory"/> (null: temporary) reading the shipped data.</summary>
    public static (IRunContext Context, LocalRunContext Local) Context(string model, ResolvedConfig config, string? directory = null, int seed = 3)
    {
        var local = new LocalRunContext(directory, seed, config) { Task = "dino", Model = model };
        return (new ShippedDataRunContext(local), local);
    }

    /// <summary>An evaluate request as the host builds it from --preset, --set and --checkpoint.</summary>
    public static CheckpointRequest Request(string model, string checkpoint, string preset, params (string Key, string Value)[] sets) =>
        new(model, checkpoint, Config(preset, model, sets), sets.Select(s => s.Key).ToHashSet(),
            name => name == "fashion-mnist" ? VitTestSupport.FashionMnist : throw new InvalidOperationException($"no test data for {name}"),
            "cpu", NullLogger.Instance, CancellationToken.None);

    /// <summary>
    /// The smoke preset with the final probes and pictures off (for runs that test training only), on 256 training
    /// images (8 steps per epoch; the preset's 1,200 exist for its 100-per-class probe) with the 10-per-class probe only.
    /// </summary>
    public static (string Key, string Value)[] TrainingOnly =>
        [("data.train_limit", "256"), ("eval.low_label", "10"), ("eval.linear", "false"), ("eval.attention_images", "0"), ("eval.whitebox_samples", "0"), ("eval.knn_every_epoch", "false")];
}
