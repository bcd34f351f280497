namespace Crate.Host.Running;

/// <summary>
/// The device under the output folder ran out of space (or quota) while a plan was running. The plan stops at once
/// (the next runs would fail the same way); finished runs, the rows already written and the last complete checkpoint
/// of the run in flight are kept (checkpoints are written to a temporary folder and renamed, LiteDB commits through
/// its log), so the same command resumes once space is freed.
/// </summary>
public sealed class DiskFullException(string folder, Exception cause) : IOException(
    $"no space left on the device of {folder} ({cause.Message.Trim()}); free space there and rerun the same command: " +
    "finished runs are kept and the run in flight resumes from its last checkpoint", cause)
{
    // errno values .NET puts in IOException.HResult on Unix: ENOSPC 28, EDQUOT 122 (Linux); ERROR_DISK_FULL 112 on Windows.
    private static readonly int[] Codes = [28, 122, 112, unchecked((int)0x80070070)];

    /// <summary>The output folder whose device is full.</summary>
    public string Folder { get; } = folder;

    /// <summary>Whether <paramref name="e"/> or an exception inside it is a full disk or an exceeded quota.</summary>
    public static bool IsCause(Exception? e)
    {
        for (; e is not null; e = e.InnerException)
            if (e is DiskFullException
                || e is IOException io && (Codes.Contains(io.HResult)
                    || io.Message.Contains("No space left on device", StringComparison.OrdinalIgnoreCase)
                    || io.Message.Contains("Disk quota exceeded", StringComparison.OrdinalIgnoreCase)))
                return true;
        return false;
    }
}
