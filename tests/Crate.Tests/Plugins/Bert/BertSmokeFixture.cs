using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Tests.Data;

namespace Crate.Tests.Plugins.Bert;

/// <summary>One in-process smoke run of each model on the shipped SOTU data, shared by the tests of a class.</summary>
public sealed class BertSmokeFixture : IDisposable
{
    public BertSmokeFixture()
    {
        Out = Path.Combine(Path.GetTempPath(), "crate-bert-tests", Guid.NewGuid().ToString("N"));
        Crate = Train(BertModels.Crate);
        Bert = Train(BertModels.Bert);
    }

    public BertTask Task { get; } = new();

    /// <summary>The results folder of both runs.</summary>
    public string Out { get; }

    public (LocalRunContext Context, RunResult Result) Crate { get; }

    public (LocalRunContext Context, RunResult Result) Bert { get; }

    /// <summary>The repository's data/&lt;name&gt; (the shipped vocabulary, SOTU, Moby-Dick).</summary>
    public static string Shipped(string name) => Path.Combine(DataTestFiles.RepoRoot(), "data", name);

    /// <summary>The smoke preset for <paramref name="model"/> with <paramref name="changes"/>.</summary>
    public ResolvedConfig SmokeConfig(string model, params (string Key, string Value)[] changes) =>
        Task.Schema.Resolve(BertPresets.Smoke.ValuesFor(model), changes.Select(c => KeyValuePair.Create(c.Key, c.Value)));

    /// <summary>A context for <paramref name="model"/> in <see cref="Out"/> reading the shipped data (or <paramref name="data"/>).</summary>
    public LocalRunContext Context(string model, ResolvedConfig config, Func<string, string>? data = null, string run = "seed0-test") =>
        new(Path.Combine(Out, "bert", model, run), seed: 0, config) { Task = "bert", Model = model, DataDirectories = data ?? Shipped };

    private (LocalRunContext, RunResult) Train(string model)
    {
        var ctx = Context(model, SmokeConfig(model));
        return (ctx, Task.Run(ctx));
    }

    public void Dispose()
    {
        Crate.Context.Dispose();
        Bert.Context.Dispose();
        try { Directory.Delete(Out, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
