namespace Crate.Core.Interop;

/// <summary>A checkpoint file that cannot be read (missing, unknown format, corrupt header).</summary>
public sealed class CheckpointFormatException : Contract.CheckpointException
{
    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Creates the exception for <paramref name="path"/>.</summary>
    public CheckpointFormatException(string path, string message, Exception? inner = null)
        : base($"{path}: {message}", inner) => Path = path;
}

/// <summary>One tensor whose shape in the file differs from the model's.</summary>
public sealed record ShapeMismatch(string Key, long[] Expected, long[] Found)
{
    /// <inheritdoc/>
    public override string ToString() =>
        $"{Key}: model [{string.Join(", ", Expected)}] vs file [{string.Join(", ", Found)}]";
}

/// <summary>
/// A state_dict that does not fit the model: lists every missing key (in the model, not in the file),
/// every unexpected key (in the file, not in the model) and every shape mismatch.
/// </summary>
public sealed class CheckpointMismatchException : Contract.CheckpointException
{
    /// <summary>The file.</summary>
    public string Path { get; }

    /// <summary>Keys the model has and the file lacks.</summary>
    public IReadOnlyList<string> Missing { get; }

    /// <summary>Keys the file has and the model lacks.</summary>
    public IReadOnlyList<string> Unexpected { get; }

    /// <summary>Keys present in both with different shapes.</summary>
    public IReadOnlyList<ShapeMismatch> ShapeMismatches { get; }

    /// <summary>Creates the exception; the message lists every problem.</summary>
    public CheckpointMismatchException(string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> shapeMismatches)
        : base(Describe(path, missing, unexpected, shapeMismatches))
    {
        Path = path;
        Missing = missing;
        Unexpected = unexpected;
        ShapeMismatches = shapeMismatches;
    }

    private static string Describe(string path, IReadOnlyList<string> missing, IReadOnlyList<string> unexpected,
        IReadOnlyList<ShapeMismatch> mismatches)
    {
        var lines = new List<string> { $"{path}: the state_dict does not match the model." };
        if (missing.Count > 0)
            lines.Add($"Missing keys ({missing.Count}): {string.Join(", ", missing)}");
        if (unexpected.Count > 0)
            lines.Add($"Unexpected keys ({unexpected.Count}): {string.Join(", ", unexpected)}");
        if (mismatches.Count > 0)
            lines.Add($"Shape mismatches ({mismatches.Count}): {string.Join("; ", mismatches)}");
        return string.Join(Environment.NewLine, lines);
    }
}
