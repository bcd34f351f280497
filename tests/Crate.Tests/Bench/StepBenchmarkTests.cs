using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Plugins.Dino;
using Crate.Plugins.Gpt2;
using Crate.Plugins.Mae;
using Crate.Plugins.Vit;

namespace Crate.Tests.Bench;

/// <summary>
/// Every task's <see cref="IStepBenchmark"/> at its smoke preset: the step builds, the real trainer runs a few steps of
/// it on the synthetic batches with finite losses, the recipe is the run's, and the FLOP count names the products the
/// model is made of.
/// </summary>
public sealed class StepBenchmarkTests
{
    private static readonly ICrateTask[] Tasks = [new VitTask(), new Gpt2Task(), new MaeTask(), new DinoTask(), new BertTask()];

    public static TheoryData<string, string> TaskModels
    {
        get
        {
            var data = new TheoryData<string, string>();
            foreach (var t in Tasks)
                foreach (var m in t.Models) data.Add(t.Name, m.Name);
            return data;
        }
    }

    [Fact]
    public void Every_benchmarked_task_offers_the_capability()
    {
        foreach (var task in Tasks) Assert.IsAssignableFrom<IStepBenchmark>(task);
    }

    [Theory]
    [MemberData(nameof(TaskModels))]
    public void Smoke_steps_run_through_the_trainer(string taskName, string model)
    {
        var task = Tasks.Single(t => t.Name == taskName);
        var config = task.Schema.Resolve(task.Presets.Single(p => p.Name == "smoke").ValuesFor(model));
        using var bench = ((IStepBenchmark)task).CreateStepBenchmark(model, config);

        Assert.Equal(config.GetInt(TrainerKeys.Train.BatchSize), bench.Options.BatchSize);
        Assert.Equal(taskName is "gpt2" or "bert" ? "tokens" : "images", bench.Unit);
        Assert.True(bench.UnitsPerSample >= 1);
        Assert.True(bench.Parameters > 0);
        Assert.True(bench.StepFlops > 0);
        Assert.Contains(bench.LargestLinear, bench.Gemms);

        var reports = new List<StepReport>();
        using var context = new LocalRunContext(seed: 0) { KeepProgress = false };
        var result = bench.Run(2, Precision.Fp32, context, reports.Add);

        Assert.Equal(2, result.Steps);
        Assert.Equal([1L, 2L], reports.Select(r => r.Step));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && r.Loss > 0, $"step {r.Step} loss {r.Loss}"));
        Assert.All(reports, r => Assert.True(double.IsFinite(r.GradNorm) && r.GradNorm > 0, $"step {r.Step} gradient norm {r.GradNorm}"));
    }

    [Fact]
    public void The_benchmark_recipe_keeps_the_task_recipe_and_only_bounds_the_run()
    {
        var task = new Gpt2Task();
        var config = task.Schema.Resolve(task.Presets.Single(p => p.Name == "small").ValuesFor("crate"));
        using var bench = task.CreateStepBenchmark("crate", config);
        var options = bench.OptionsFor(7, Precision.Bf16);

        Assert.Equal(TrainerOptions.FromConfig(config) with { MaxSteps = 7, EvalEverySteps = 7, KeepCheckpoints = 1, Precision = Precision.Bf16 }, options);
        Assert.Equal(1.0, options.GradClip);
        Assert.Equal("lm_head", bench.LargestLinear.Name);
        Assert.Equal(("tokens", 128L), (bench.Unit, bench.UnitsPerSample));   // throughput in tokens: batch x context
        // GPT-2-style step: the tied head [B·T, d] x [d, V] is the largest weight product.
        Assert.Equal((16L * 128, 128L, 50304L), (bench.LargestLinear.M, bench.LargestLinear.K, bench.LargestLinear.N));
    }

    [Fact]
    public void Gemm_flops_count_the_backward_only_where_gradients_flow()
    {
        var trained = new GemmShape("a", 4, 5, 6);
        var teacher = new GemmShape("b", 4, 5, 6, Count: 2, Backward: false);
        Assert.Equal(2.0 * 4 * 5 * 6 * 3, trained.StepFlops);
        Assert.Equal(2.0 * 4 * 5 * 6 * 2, teacher.StepFlops);
    }
}
