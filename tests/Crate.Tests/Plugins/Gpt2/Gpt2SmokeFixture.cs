using Crate.Core.Contract;
using Crate.Plugins.Gpt2;
using Crate.Tests.Data;
using Crate.Core.Training;

namespace Crate.Tests.Plugins.Gpt2;

/// <summary>
/// One in-process smoke run of each model on the shipped Moby-Dick, shared by the tests of a class. The run
/// folders have the host's layout <c>out/gpt2/&lt;model&gt;/seed0-test</c>, so both runs share one tokenised
/// cache in <c>out/cache/text</c>.
/// </summary>
public sealed class Gpt2SmokeFixture : IDisposable
{
    public Gpt2SmokeFixture()
    {
        Out = Path.Combine(Path.GetTempPath(), "crate-gpt2-tests", Guid.NewGuid().ToString("N"));
        Crate = Train(Gpt2Models.Crate);
        Gpt2 = Train(Gpt2Models.Gpt2);
    }

    public Gpt2Task Task { get; } = new();

    /// <summary>The results folder of both runs.</summary>
    public string Out { get; }

    public (LocalRunContext Context, RunResult Result) Crate { get; }

    public (LocalRunContext Context, RunResult Result) Gpt2 { get; }

    /// <summary>The smoke preset for <paramref name="model"/>, reading the repository's data/moby-dick through data.path.</summary>
    public ResolvedConfig SmokeConfig(string model, params (string Key, string Value)[] changes) =>
        Task.Schema.Resolve(Gpt2Presets.Smoke.ValuesFor(model),
            [KeyValuePair.Create("data.path", Path.Combine(DataTestFiles.RepoRoot(), "data", "moby-dick")),
             .. changes.Select(c => KeyValuePair.Create(c.Key, c.Value))]);

    /// <summary>A context for <paramref name="model"/> in <see cref="Out"/> with the host's folder layout.</summary>
    public LocalRunContext Context(string model, ResolvedConfig config, string run = "seed0-test") =>
        new(Path.Combine(Out, "gpt2", model, run), seed: 0, config) { Task = "gpt2", Model = model };

    private (LocalRunContext, RunResult) Train(string model)
    {
        var ctx = Context(model, SmokeConfig(model));
        return (ctx, Task.Run(ctx));
    }

    public void Dispose()
    {
        Crate.Context.Dispose();
        Gpt2.Context.Dispose();
        try { Directory.Delete(Out, recursive: true); }
        catch (DirectoryNotFoundException) { }
    }
}
