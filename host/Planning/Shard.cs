using System.Globalization;
using Crate.Host.Plugins;

namespace Crate.Host.Planning;

/// <summary>
/// "Shard i of n" of a job array, in one place. <c>--shard i/n</c> as given, or <c>--shard auto</c>: i and n from the
/// scheduler's environment, a Slurm job array (<c>SLURM_ARRAY_TASK_ID</c> with <c>_MIN</c>, <c>_MAX</c>, <c>_STEP</c>,
/// <c>_COUNT</c>) or a Kubernetes Indexed Job (<c>JOB_COMPLETION_INDEX</c>, with <c>CRATE_SHARDS</c> = the Job's
/// completions, which the Job controller does not pass). deploy/slurm/reproduce.sbatch and deploy/k8s/reproduce-job.yaml
/// both run <c>reproduce --shard auto --out ROOT/shards/{shard}</c>, so neither computes the index itself and the two
/// cannot drift apart. The plan's runs i, i+n, i+2n, ... belong to shard i (<see cref="PlanBuilder"/>).
/// </summary>
/// <param name="Index">0..Count-1.</param>
/// <param name="Count">The number of shards.</param>
/// <param name="Source">Where <c>auto</c> found them, for the plan's first line; null for an explicit i/n.</param>
public sealed record Shard(int Index, int Count, string? Source = null)
{
    /// <summary>In <c>--out</c>, replaced by the shard index: <c>--out /results/shards/{shard}</c>.</summary>
    public const string Placeholder = "{shard}";

    /// <summary>The count for a Kubernetes Indexed Job (its completions; deploy/check-manifests.py checks they agree).</summary>
    public const string KubernetesCountVariable = "CRATE_SHARDS";

    /// <summary>Parses <c>i/n</c> or <c>auto</c> (read from <paramref name="environment"/>).</summary>
    public static Shard Parse(string value, Func<string, string?> environment)
    {
        if (value == "auto") return FromEnvironment(environment);
        var parts = value.Split('/');
        if (parts.Length == 2 && TryInt(parts[0], out var i) && TryInt(parts[1], out var n))
        {
            if (n < 1 || i < 0 || i >= n) throw new UsageException($"--shard {value}: expected i/n with 0 <= i < n");
            return new Shard(i, n);
        }
        throw new UsageException($"--shard {value}: expected i/n (e.g. --shard 0/4) or auto (from a Slurm job array or a Kubernetes Indexed Job)");
    }

    /// <summary>The shard of this array task or pod; a <see cref="UsageException"/> naming the variables when there is none.</summary>
    public static Shard FromEnvironment(Func<string, string?> environment)
    {
        string? Get(string name) => environment(name) is { Length: > 0 } v ? v : null;
        var slurm = Get("SLURM_ARRAY_TASK_ID");
        var k8s = Get("JOB_COMPLETION_INDEX");
        if (slurm is not null && k8s is not null)
            throw new UsageException("--shard auto: both a Slurm job array (SLURM_ARRAY_TASK_ID) and a Kubernetes Indexed Job " +
                                     "(JOB_COMPLETION_INDEX) are in the environment; give --shard i/n");
        if (slurm is not null) return FromSlurm(slurm, Get);
        if (k8s is not null) return FromKubernetes(k8s, Get);
        throw new UsageException("--shard auto: no job array in the environment (a Slurm array task has SLURM_ARRAY_TASK_ID: " +
                                 "sbatch --array=0-(n-1); a Kubernetes Indexed Job pod has JOB_COMPLETION_INDEX, with " +
                                 $"{KubernetesCountVariable}=n); elsewhere give --shard i/n");
    }

    /// <summary><paramref name="outDir"/> with <see cref="Placeholder"/> replaced by the shard index.</summary>
    public static string ExpandOut(string outDir, Shard? shard)
    {
        if (!outDir.Contains(Placeholder, StringComparison.Ordinal)) return outDir;
        if (shard is null) throw new UsageException($"--out {outDir}: {Placeholder} stands for the shard index of --shard, which is not given");
        return outDir.Replace(Placeholder, shard.Index.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal);
    }

    // Slurm numbers the tasks of --array=a-b:s as a, a+s, ..., b and sets _MIN=a, _MAX=b, _STEP=s, _COUNT. A list such as
    // --array=0,3,5 sets _MIN=0, _MAX=5, _STEP=1, _COUNT=3 (seen on slurm-wlm 22.05): its tasks have no index 0..n-1.
    private static Shard FromSlurm(string id, Func<string, string?> get)
    {
        int task = Int("SLURM_ARRAY_TASK_ID", id);
        int min = Int("SLURM_ARRAY_TASK_MIN", get("SLURM_ARRAY_TASK_MIN")
            ?? throw new UsageException("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not (this Slurm is too old for --shard auto; give --shard i/n)"));
        int count = Int("SLURM_ARRAY_TASK_COUNT", get("SLURM_ARRAY_TASK_COUNT")
            ?? throw new UsageException("--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_COUNT is not (this Slurm is too old for --shard auto; give --shard i/n)"));
        int step = get("SLURM_ARRAY_TASK_STEP") is { } s ? Int("SLURM_ARRAY_TASK_STEP", s) : 1;
        int max = get("SLURM_ARRAY_TASK_MAX") is { } m ? Int("SLURM_ARRAY_TASK_MAX", m) : min + (count - 1) * step;
        var range = $"{min}-{max}" + (step != 1 ? $":{step}" : "");
        if (count < 1 || step < 1 || max != min + (count - 1) * step || task < min || task > max || (task - min) % step != 0)
            throw new UsageException($"--shard auto: the Slurm array's {count} task(s) {range} (task {task}) are not evenly spaced " +
                                     "(a list such as --array=0,3,5), so they have no shard index 0..n-1; submit --array=0-(n-1)");
        var job = get("SLURM_ARRAY_JOB_ID") is { } j ? $"job {j} " : "";
        return new Shard((task - min) / step, count, $"Slurm array {job}task {task} of {range}");
    }

    private static Shard FromKubernetes(string index, Func<string, string?> get)
    {
        int i = Int("JOB_COMPLETION_INDEX", index);
        int n = Int(KubernetesCountVariable, get(KubernetesCountVariable)
            ?? throw new UsageException($"--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but {KubernetesCountVariable} " +
                                        "is not: set it to the Job's completions"));
        if (n < 1 || i < 0 || i >= n)
            throw new UsageException($"--shard auto: JOB_COMPLETION_INDEX={i} with {KubernetesCountVariable}={n}: " +
                                     $"{KubernetesCountVariable} must equal the Job's completions");
        return new Shard(i, n, $"Kubernetes Indexed Job pod {i} of {n}");
    }

    private static int Int(string name, string value) => TryInt(value, out var v) ? v
        : throw new UsageException($"--shard auto: {name}='{value}' is not an integer");

    private static bool TryInt(string s, out int v) => int.TryParse(s, NumberStyles.Integer, CultureInfo.InvariantCulture, out v);
}
