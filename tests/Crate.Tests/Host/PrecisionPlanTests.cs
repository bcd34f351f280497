using Crate.Core.Contract;
using Crate.Host.Planning;
using Crate.Tests.Contract;

namespace Crate.Tests.Host;

/// <summary><c>reproduce --precision</c>: it sets every phase's precision key, and only bf16 changes the run keys.</summary>
public class PrecisionPlanTests
{
    private static IReadOnlyList<PlannedRun> Plan(string? precision, params string[] sets) =>
        PlanBuilder.Build(DiscoveredPlugins.Catalog, new PlanRequest(["vit", "mae"], "smoke", null, [0], sets) { Precision = precision });

    [Fact]
    public void Bf16SetsTrainAndFinetunePrecisionAndGivesNewRunKeys()
    {
        var plain = Plan(null);
        var fp32 = Plan("fp32");
        var bf16 = Plan("bf16");
        Assert.Equal(plain.Select(r => r.Key), fp32.Select(r => r.Key));
        Assert.All(plain.Zip(bf16), pair => Assert.NotEqual(pair.First.Key, pair.Second.Key));
        foreach (var run in bf16)
        {
            Assert.Equal("bf16", run.Config.Values["train.precision"]);
            if (run.Task.Task.Name == "mae") Assert.Equal("bf16", run.Config.Values["finetune.precision"]);
            else Assert.False(run.Config.Schema.Contains("finetune.precision"));
        }
    }

    [Fact]
    public void AnExplicitSetWinsOverPrecision()
    {
        var run = Plan("bf16", "mae:finetune.precision=fp32").Single(r => r.Task.Task.Name == "mae" && r.Model.Role == ModelRole.Crate);
        Assert.Equal("bf16", run.Config.Values["train.precision"]);
        Assert.Equal("fp32", run.Config.Values["finetune.precision"]);
    }
}
