using Crate.Core.Contract;
using Crate.Plugins.Mae;
using Crate.Tests.Plugins.Vit;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Tests.Plugins.Mae;

/// <summary>Shared pieces of the mae task tests: configs from presets and evaluate requests on the shipped data.</summary>
internal static class MaeTestSupport
{
    public static readonly MaeTask TheTask = new();

    /// <summary>A preset's config for <paramref name="model"/> with <paramref name="sets"/> on top.</summary>
    public static ResolvedConfig Config(string preset, string model, params (string Key, string Value)[] sets) =>
        TheTask.Schema.Resolve(TheTask.Presets.Single(p => p.Name == preset).ValuesFor(model),
            sets.Select(s => KeyValuePair.Create(s.Key, s.Value)));

    /// <summary>An evaluate request as the host builds it from --preset, --set and --checkpoint.</summary>
    public static CheckpointRequest Request(string model, string checkpoint, string preset, params (string Key, string Value)[] sets) =>
        new(model, checkpoint, Config(preset, model, sets), sets.Select(s => s.Key).ToHashSet(),
            name => name == "fashion-mnist" ? VitTestSupport.FashionMnist : throw new InvalidOperationException($"no test data for {name}"),
            "cpu", NullLogger.Instance, CancellationToken.None);
}
