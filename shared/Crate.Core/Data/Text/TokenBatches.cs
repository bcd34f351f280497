using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Data.Text;

/// <summary>
/// A language-model batch as managed arrays: inputs <c>X</c> and next-token targets <c>Y</c>, each
/// <c>long[B*T]</c> row-major (<c>[B, T]</c>). Make tensors on the training thread, inside its dispose scope.
/// </summary>
public sealed class TokenBatch
{
    /// <summary>Wraps the arrays (row-major <c>[batchSize, blockSize]</c>).</summary>
    public TokenBatch(long[] x, long[] y, int batchSize, int blockSize)
    {
        if (x.Length != (long)batchSize * blockSize || y.Length != x.Length)
            throw new ArgumentException($"x and y must hold {batchSize}x{blockSize} ids");
        X = x;
        Y = y;
        BatchSize = batchSize;
        BlockSize = blockSize;
    }

    /// <summary>Inputs, <c>[B, T]</c> row-major.</summary>
    public long[] X { get; }

    /// <summary>Targets (inputs shifted by one token), <c>[B, T]</c> row-major.</summary>
    public long[] Y { get; }

    /// <summary>Rows.</summary>
    public int BatchSize { get; }

    /// <summary>Tokens per row (the context length T).</summary>
    public int BlockSize { get; }

    /// <summary>X and Y as int64 tensors <c>[B, T]</c>.</summary>
    public (Tensor X, Tensor Y) ToTensors(Device? device = null)
    {
        Tensor x = torch.tensor(X, [BatchSize, BlockSize]);
        Tensor y = torch.tensor(Y, [BatchSize, BlockSize]);
        if (device is null || device.type == DeviceType.CPU) return (x, y);
        return (x.to(device), y.to(device));
    }
}

/// <summary>
/// nanoGPT's <c>get_batch</c>: <see cref="BatchSize"/> random offsets <c>i</c> in [0, len - T), rows
/// <c>x = ids[i : i+T]</c>, <c>y = ids[i+1 : i+T+1]</c>. The offsets come from a <see cref="DataRng"/>
/// whose <see cref="State"/> a checkpoint saves and restores, so a resumed run draws the same batches.
/// Every id handed out is checked against the vocabulary. Not thread-safe (one per training loop).
/// </summary>
public sealed class TokenBatchSampler
{
    private readonly DataRng _rng;
    private readonly ushort[] _scratch;

    /// <summary>Samples from <paramref name="file"/>; the file must hold at least <paramref name="blockSize"/> + 1 tokens.</summary>
    public TokenBatchSampler(TokenFile file, int batchSize, int blockSize, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        TokenBatches.RequireContext(file, blockSize);
        File = file;
        BatchSize = batchSize;
        BlockSize = blockSize;
        _rng = new DataRng(seed);
        _scratch = new ushort[blockSize + 1];
    }

    /// <summary>The token file sampled.</summary>
    public TokenFile File { get; }

    /// <summary>Rows per batch.</summary>
    public int BatchSize { get; }

    /// <summary>Context length T.</summary>
    public int BlockSize { get; }

    /// <summary>The generator state: save it with a checkpoint, assign it to resume.</summary>
    public ulong State
    {
        get => _rng.State;
        set => _rng.State = value;
    }

    /// <summary>Draws the next batch.</summary>
    public TokenBatch Next()
    {
        int t = BlockSize;
        var x = new long[BatchSize * t];
        var y = new long[BatchSize * t];
        var buffer = new long[t + 1];
        for (int b = 0; b < BatchSize; b++)
        {
            long offset = _rng.NextInt64(File.Length - t);
            File.ReadChecked(offset, t + 1, buffer, _scratch);
            buffer.AsSpan(0, t).CopyTo(x.AsSpan(b * t, t));    // ids[i : i+T]
            buffer.AsSpan(1, t).CopyTo(y.AsSpan(b * t, t));    // ids[i+1 : i+T+1]
        }
        return new TokenBatch(x, y, BatchSize, t);
    }
}

/// <summary>Sequential evaluation batches and shared checks.</summary>
public static class TokenBatches
{
    /// <summary>
    /// The whole file in order as non-overlapping windows: row <c>k</c> is <c>x = ids[kT : kT+T]</c>,
    /// <c>y = ids[kT+1 : kT+T+1]</c>, for every k with <c>kT + T + 1 &lt;= len</c>; rows are grouped
    /// <paramref name="batchSize"/> at a time (the last batch may be smaller). <paramref name="maxBatches"/>
    /// stops early. The token-weighted mean loss over these batches is the file's loss per token.
    /// </summary>
    public static IEnumerable<TokenBatch> Sequential(TokenFile file, int batchSize, int blockSize, int? maxBatches = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(batchSize);
        RequireContext(file, blockSize);
        long windows = (file.Length - 1) / blockSize;
        var scratch = new ushort[blockSize + 1];
        var buffer = new long[blockSize + 1];
        int produced = 0;
        for (long first = 0; first < windows && (maxBatches is null || produced < maxBatches); first += batchSize, produced++)
        {
            int rows = (int)Math.Min(batchSize, windows - first);
            var x = new long[rows * blockSize];
            var y = new long[rows * blockSize];
            for (int r = 0; r < rows; r++)
            {
                file.ReadChecked((first + r) * blockSize, blockSize + 1, buffer, scratch);
                buffer.AsSpan(0, blockSize).CopyTo(x.AsSpan(r * blockSize, blockSize));
                buffer.AsSpan(1, blockSize).CopyTo(y.AsSpan(r * blockSize, blockSize));
            }
            yield return new TokenBatch(x, y, rows, blockSize);
        }
    }

    /// <summary>Number of batches <see cref="Sequential"/> yields without a limit.</summary>
    public static long SequentialBatchCount(TokenFile file, int batchSize, int blockSize) =>
        ((file.Length - 1) / blockSize + batchSize - 1) / batchSize;

    internal static void RequireContext(TokenFile file, int blockSize)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(blockSize);
        if (file.Length < blockSize + 1L)
            throw new DatasetException(file.Path, DataErrorKind.ContextTooLong,
                $"a context of {blockSize} tokens needs at least {blockSize + 1} tokens (inputs plus the shifted target), the file has {file.Length}");
    }
}
