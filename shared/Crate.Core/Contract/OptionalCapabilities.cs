using Microsoft.Extensions.Logging;

namespace Crate.Core.Contract;

/// <summary>
/// What the host hands a task for a one-off command on a checkpoint (<c>evaluate</c>, <c>sample</c>):
/// the model, the checkpoint (a file such as a PyTorch <c>.pth</c>/<c>.safetensors</c> state_dict, or a
/// trainer checkpoint folder), the config resolved from a preset and <c>--set</c> (or from the run that
/// wrote the checkpoint), and which keys the user set explicitly, so a task can tell a value it may
/// infer from the file from one the user insisted on.
/// </summary>
public sealed record CheckpointRequest(
    string Model,
    string CheckpointPath,
    ResolvedConfig Config,
    IReadOnlySet<string> ExplicitKeys,
    Func<string, string> DataDirectory,
    string Device,
    ILogger Logger,
    CancellationToken Cancellation);

/// <summary>Result of <see cref="ICheckpointEvaluator.Evaluate"/>: metrics and human notes (e.g. which shape keys were inferred).</summary>
public sealed record EvaluationResult(IReadOnlyDictionary<string, double> Metrics, IReadOnlyList<string> Notes);

/// <summary>
/// Optional: a task that checks a resolved config for one of its models beyond the schema's per-key checks (keys
/// that must agree with each other, shapes the model would refuse). The planner calls it for every planned
/// (model, config) before anything runs, so a <see cref="ConfigException"/> stops the command with exit code 2 and
/// nothing recorded.
/// </summary>
public interface IConfigChecker
{
    /// <summary>Throws <see cref="ConfigException"/> naming the key when <paramref name="config"/> is not valid for <paramref name="model"/>.</summary>
    void CheckConfig(string model, ResolvedConfig config);
}

/// <summary>Optional: a task whose checkpoints (ours or the reference implementation's) can be evaluated (<c>evaluate</c>).</summary>
public interface ICheckpointEvaluator
{
    /// <summary>Evaluates the checkpoint on the task's test split.</summary>
    EvaluationResult Evaluate(CheckpointRequest request);
}

/// <summary>Generation settings for <see cref="ITextSampler.Sample"/>.</summary>
public sealed record SamplingOptions(string Prompt, int Tokens, double Temperature, int? TopK, int Seed);

/// <summary>Optional: a language-model task that can generate text from a checkpoint (<c>sample</c>).</summary>
public interface ITextSampler
{
    /// <summary>Generates a continuation of the prompt; returns prompt and continuation as text.</summary>
    string Sample(CheckpointRequest request, SamplingOptions options);
}

/// <summary>
/// Optional (additive to contract version 2): a task whose training step can be timed outside a run (<c>bench/</c>): the models of
/// <c>model</c> at <c>config</c> (a preset resolved for that model), the spec its <c>Run</c> trains (the same
/// builder, over <see cref="Training.SyntheticBatches{TBatch}"/> of the config's shapes) and its trainer options.
/// </summary>
public interface IStepBenchmark
{
    /// <summary>Builds the step of <paramref name="model"/> at <paramref name="config"/>; the caller disposes it.</summary>
    Training.StepBenchmark CreateStepBenchmark(string model, ResolvedConfig config);
}
