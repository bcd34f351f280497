using Crate.Bench;
using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Plugins.Dino;
using Crate.Plugins.Gpt2;
using Crate.Plugins.Mae;
using Crate.Plugins.Vit;

namespace Crate.Tests.Bench;

/// <summary>The benchmark's command line and the (task, model, config) plan it resolves.</summary>
public sealed class BenchOptionsTests
{
    private static readonly ICrateTask[] Tasks = [new VitTask(), new Gpt2Task(), new MaeTask(), new DinoTask(), new BertTask()];

    [Fact]
    public void Defaults_run_every_task_in_both_precisions_at_the_small_preset()
    {
        var o = BenchOptions.Parse([]);
        Assert.Equal(["vit", "gpt2", "mae", "dino", "bert"], o.Tasks);
        Assert.Equal([Precision.Fp32, Precision.Bf16], o.Precisions);
        Assert.Equal("small", o.Preset);
        Assert.Null(o.JsonPath);
        Assert.Equal(o.Steps, o.MeasuredSteps);
    }

    [Fact]
    public void The_device_defaults_to_the_cpu_and_takes_cuda()
    {
        Assert.Equal("cpu", BenchOptions.Parse([]).Device);
        Assert.Equal("cuda", BenchOptions.Parse(["--device", "cuda"]).Device);
        Assert.Equal("cuda:1", BenchOptions.Parse(["--device", "cuda:1"]).Device);
    }

    [Fact]
    public void Options_are_read()
    {
        var o = BenchOptions.Parse(["--tasks", "gpt2,bert", "--model", "crate", "--precision", "bf16", "--steps", "9", "--warmup", "2",
            "--rss-steps", "1000", "--rss-tolerance", "0.05", "--threads", "4", "--json", "out.json", "--set", "train.batch_size=8", "--matmul", "false"]);
        Assert.Equal(["gpt2", "bert"], o.Tasks);
        Assert.Equal(["crate"], o.Models);
        Assert.Equal([Precision.Bf16], o.Precisions);
        Assert.Equal((9, 2, 1000, 1000, 0.05, 4), (o.Steps, o.Warmup, o.RssSteps, o.MeasuredSteps, o.RssTolerance, o.Threads));
        Assert.Equal("out.json", o.JsonPath);
        Assert.Equal([new KeyValuePair<string, string>("train.batch_size", "8")], o.Sets);
        Assert.False(o.Matmul);
        Assert.Equal([Precision.Fp32], BenchOptions.Parse(["--precision", "fp32"]).Precisions);
    }

    [Theory]
    [InlineData("--precision", "fp16", "--precision must be fp32, bf16 or both")]
    [InlineData("--tasks", "vit,imagenet", "unknown task 'imagenet'")]
    [InlineData("--steps", "0", "--steps needs an integer >= 1")]
    [InlineData("--set", "model.dim", "--set needs key=value")]
    [InlineData("--dim", "192", "--set model.dim=192")]
    [InlineData("--bogus", "1", "unknown option --bogus")]
    [InlineData("--device", "gpu", "--device must be cpu, cuda or cuda:N")]
    [InlineData("--device", "cuda:x", "--device must be cpu, cuda or cuda:N")]
    [InlineData("--layer", "128,50,192", "--layer needs B,n,d,K")]
    [InlineData("--layer", "128,50,190,6", "width 190 is not divisible by 6 heads")]
    public void Bad_options_name_the_cause(string key, string value, string expected)
    {
        var e = Assert.Throws<BenchUsageException>(() => BenchOptions.Parse([key, value]));
        Assert.Contains(expected, e.Reason);
    }

    [Fact]
    public void A_model_filter_picks_that_model_in_every_task_and_sets_apply()
    {
        var o = BenchOptions.Parse(["--model", "crate", "--tasks", "vit,gpt2", "--set", "train.batch_size=8"]);
        var plan = BenchPlan.Resolve(Tasks, o).ToList();
        Assert.Equal([("vit", "crate"), ("gpt2", "crate")], plan.Select(p => (p.Task.Name, p.Model)));
        Assert.All(plan, p => Assert.Equal(8, p.Config.GetInt(TrainerKeys.Train.BatchSize)));
    }

    [Fact]
    public void Plan_errors_name_the_task_and_key()
    {
        Assert.Contains("task 'gpt2' has no config key 'model.dim'",
            Assert.Throws<BenchUsageException>(() => BenchPlan.Resolve(Tasks, BenchOptions.Parse(["--tasks", "vit,gpt2", "--set", "model.dim=64"]))).Reason);
        Assert.Contains("no selected task has a model named 'resnet'",
            Assert.Throws<BenchUsageException>(() => BenchPlan.Resolve(Tasks, BenchOptions.Parse(["--model", "resnet"]))).Reason);
        Assert.Contains("has no preset 'huge'",
            Assert.Throws<BenchUsageException>(() => BenchPlan.Resolve(Tasks, BenchOptions.Parse(["--preset", "huge"]))).Reason);
    }

    [Fact]
    public void Layer_shape_is_read_and_its_parts_are_timed_in_each_precision()
    {
        var o = BenchOptions.Parse(["--layer", "2,5,8,2", "--steps", "2", "--warmup", "1"]);
        Assert.Equal(new LayerShape(2, 5, 8, 2), o.Layer);
        var rows = CrateLayerBench.Run(o.Layer!, o);
        Assert.Equal(["fp32", "bf16"], rows.Select(r => r.Precision).Distinct());
        Assert.Equal(6, rows.Count(r => r.Precision == "fp32"));
        Assert.Equal(8, rows.Count(r => r.Precision == "bf16"));
        Assert.All(rows, r => Assert.True(r.MedianMs > 0 && r.MinMs <= r.MedianMs, $"{r.Part} {r.Precision}: {r.MinMs} / {r.MedianMs} ms"));
        Assert.Equal("CRATE layer", rows[0].Part);
    }
}
