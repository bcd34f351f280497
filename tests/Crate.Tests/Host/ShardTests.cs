using Crate.Host.Planning;
using Crate.Host.Plugins;

namespace Crate.Tests.Host;

/// <summary>
/// The one description of "shard i of n" that deploy/slurm/reproduce.sbatch and deploy/k8s/reproduce-job.yaml share:
/// <c>--shard auto</c> from the variables Slurm sets in an array task (the values below are those slurm-wlm 22.05 set
/// for the --array given) and the Job controller in an Indexed Job pod.
/// </summary>
public class ShardTests
{
    private static Func<string, string?> Env(params (string Name, string Value)[] vars) =>
        name => vars.FirstOrDefault(v => v.Name == name).Value;

    private static Func<string, string?> Slurm(int id, int min, int max, int count, int step) => Env(
        ("SLURM_ARRAY_JOB_ID", "42"), ("SLURM_ARRAY_TASK_ID", id.ToString()), ("SLURM_ARRAY_TASK_MIN", min.ToString()),
        ("SLURM_ARRAY_TASK_MAX", max.ToString()), ("SLURM_ARRAY_TASK_COUNT", count.ToString()), ("SLURM_ARRAY_TASK_STEP", step.ToString()));

    [Theory]
    [InlineData(0, 0, 1, 2, 1, 0)]      // --array=0-1
    [InlineData(1, 0, 1, 2, 1, 1)]
    [InlineData(1, 1, 2, 2, 1, 0)]      // --array=1-2: the index counts from the first task
    [InlineData(2, 1, 2, 2, 1, 1)]
    [InlineData(4, 0, 4, 3, 2, 2)]      // --array=0-4:2 is tasks 0, 2, 4: shards 0, 1, 2
    [InlineData(3, 0, 3, 4, 1, 3)]      // --array=0-3%2 (throttled): the same variables as 0-3
    public void A_Slurm_array_task_is_its_position_in_the_array(int id, int min, int max, int count, int step, int index)
    {
        var shard = Shard.Parse("auto", Slurm(id, min, max, count, step));
        Assert.Equal((index, count), (shard.Index, shard.Count));
        Assert.Contains($"Slurm array job 42 task {id}", shard.Source);
    }

    [Fact]
    public void A_Slurm_array_of_listed_tasks_is_refused_rather_than_given_shards_that_do_not_exist()
    {
        // --array=0,3,5 sets MIN=0 MAX=5 COUNT=3 STEP=1: task 3 is neither shard 3 of 3 nor any other.
        var e = Assert.Throws<UsageException>(() => Shard.Parse("auto", Slurm(3, 0, 5, 3, 1)));
        Assert.Contains("not evenly spaced", e.Message);
        Assert.Contains("--array=0-(n-1)", e.Message);
    }

    [Fact]
    public void A_Kubernetes_Indexed_Job_pod_takes_its_index_and_CRATE_SHARDS()
    {
        var shard = Shard.Parse("auto", Env(("JOB_COMPLETION_INDEX", "3"), ("CRATE_SHARDS", "4")));
        Assert.Equal((3, 4), (shard.Index, shard.Count));

        var noCount = Assert.Throws<UsageException>(() => Shard.Parse("auto", Env(("JOB_COMPLETION_INDEX", "0"))));
        Assert.Contains("CRATE_SHARDS is not", noCount.Message);
        var beyond = Assert.Throws<UsageException>(() => Shard.Parse("auto", Env(("JOB_COMPLETION_INDEX", "4"), ("CRATE_SHARDS", "4"))));
        Assert.Contains("CRATE_SHARDS must equal the Job's completions", beyond.Message);
    }

    [Fact]
    public void Auto_outside_an_array_or_inside_both_names_the_variables()
    {
        var none = Assert.Throws<UsageException>(() => Shard.Parse("auto", Env()));
        Assert.Contains("SLURM_ARRAY_TASK_ID", none.Message);
        Assert.Contains("JOB_COMPLETION_INDEX", none.Message);
        var both = Assert.Throws<UsageException>(() => Shard.Parse("auto",
            Env(("SLURM_ARRAY_TASK_ID", "0"), ("JOB_COMPLETION_INDEX", "0"))));
        Assert.Contains("give --shard i/n", both.Message);
        var bad = Assert.Throws<UsageException>(() => Shard.Parse("auto", Env(("SLURM_ARRAY_TASK_ID", "x"))));
        Assert.Contains("SLURM_ARRAY_TASK_ID='x' is not an integer", bad.Message);
    }

    [Theory]
    [InlineData("1/4", 1, 4)]
    [InlineData("0/1", 0, 1)]
    public void An_explicit_shard_ignores_the_environment(string value, int index, int count)
    {
        var shard = Shard.Parse(value, Slurm(1, 0, 1, 2, 1));
        Assert.Equal((index, count, (string?)null), (shard.Index, shard.Count, shard.Source));
    }

    [Theory]
    [InlineData("4/4")]
    [InlineData("-1/2")]
    [InlineData("1:2")]
    [InlineData("all")]
    public void A_malformed_shard_is_a_usage_error(string value) =>
        Assert.StartsWith($"--shard {value}: expected i/n", Assert.Throws<UsageException>(() => Shard.Parse(value, Env())).Message);

    [Fact]
    public void The_out_folder_names_the_shard_with_a_placeholder()
    {
        Assert.Equal("/r/shards/2", Shard.ExpandOut("/r/shards/{shard}", new Shard(2, 4)));
        Assert.Equal("/r", Shard.ExpandOut("/r", new Shard(2, 4)));
        Assert.Equal("/r", Shard.ExpandOut("/r", null));
        Assert.Contains("{shard} stands for the shard index", Assert.Throws<UsageException>(() => Shard.ExpandOut("/r/{shard}", null)).Message);
    }
}
