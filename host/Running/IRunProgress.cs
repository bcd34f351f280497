using Crate.Core.Contract;

namespace Crate.Host.Running;

/// <summary>
/// Where one job's progress goes: the terminal's <see cref="ProgressView"/> (its slot for that job), or, in a job
/// process started by <c>reproduce --jobs N</c>, the line protocol its parent reads (<see cref="JobChannel"/>).
/// </summary>
public interface IRunProgress
{
    /// <summary>A run starts (1-based index in the plan).</summary>
    void StartRun(int index, string label);

    /// <summary>The run ended after <paramref name="duration"/> (counted for the plan ETA when it trained).</summary>
    void EndRun(TimeSpan? duration);

    /// <summary>A message on its own line (an evaluation row, [run], [done], ...).</summary>
    void Message(string text);

    /// <summary>A training step's progress.</summary>
    void Update(ProgressInfo info);
}
