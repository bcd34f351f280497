using System.Buffers.Binary;
using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Plugins.Vit;
using Crate.Tests.Data;
using Crate.Core.Training;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Tests.Plugins.Vit;

/// <summary>Shared pieces of the vit task tests: configs from presets, the shipped data, PNG headers.</summary>
internal static class VitTestSupport
{
    public static readonly VitTask TheTask = new();

    /// <summary>The shipped Fashion-MNIST subset.</summary>
    public static string FashionMnist => Path.Combine(DataTestFiles.RepoRoot(), "data", "fashion-mnist");

    /// <summary>A preset's config for <paramref name="model"/> with <paramref name="sets"/> on top.</summary>
    public static ResolvedConfig Config(string preset, string model, params (string Key, string Value)[] sets) =>
        TheTask.Schema.Resolve(TheTask.Presets.Single(p => p.Name == preset).ValuesFor(model),
            sets.Select(s => KeyValuePair.Create(s.Key, s.Value)));

    /// <summary>The shipped Fashion-MNIST through the data of <paramref name="config"/>'s CRATE shape, as a run loads it.</summary>
    public static ImageTaskData LoadData(ResolvedConfig config)
    {
        var shape = VisionShape.From(config, VisionShape.Crate);
        return ImageTaskData.Load(config, FashionMnist, shape.Channels, shape.ImageSize, shape.NumClasses);
    }

    /// <summary>An evaluate request as the host builds it from --preset, --set and --checkpoint.</summary>
    public static CheckpointRequest Request(string model, string checkpoint, string preset, params (string Key, string Value)[] sets) =>
        new(model, checkpoint, Config(preset, model, sets), sets.Select(s => s.Key).ToHashSet(),
            name => name == "fashion-mnist" ? FashionMnist : throw new InvalidOperationException($"no test data for {name}"),
            "cpu", NullLogger.Instance, CancellationToken.None);

    /// <summary>Width and height from a PNG's signature and IHDR chunk; fails when the header is not PNG.</summary>
    public static (int Width, int Height) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal(new byte[] { 0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A }, bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}

/// <summary>An in-memory run context whose datasets are the repository's shipped data.</summary>
internal sealed class ShippedDataRunContext(LocalRunContext inner) : DelegatingRunContext(inner)
{
    public override string DataDirectory(string name) => name == "fashion-mnist" ? VitTestSupport.FashionMnist : base.DataDirectory(name);
}
