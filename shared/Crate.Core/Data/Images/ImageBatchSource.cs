using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Data.Images;

/// <summary>
/// The trainer's <see cref="IBatchSource{TBatch}"/> over an <see cref="ImageBatchLoader"/>: micro-batch
/// (e, i) is the loader batch that starts at sample i·B of epoch e, with every one of the loader's views
/// (<see cref="ViewBatch"/>). The loader is a pure function of the position (epoch e visits a permutation
/// drawn from (seed, e); view v of sample s draws its augmentation from (seed, e, s, v)), so a resumed
/// run sees the same batches. Build the loader with <see cref="ImageLoaderOptions.DropLast"/> for
/// training (every micro-batch the same size); without it the last batch of an epoch is short.
/// <para>
/// With prefetching (the default), <see cref="ImageLoaderOptions.Workers"/> loader threads prepare the
/// batches after the one last asked for, up to <c>max(Prefetch, Workers) + 1</c> ahead, into a fixed ring
/// of reused buffers, and go on across epoch ends; the calling (training) thread turns a prepared buffer
/// into tensors (dispose scopes are thread-local) and hands it back. Once warm, the loader threads
/// allocate no managed memory (in-memory datasets and the built-in transforms; decoding image files
/// allocates), so they start no garbage collection. That matters with TorchSharp 0.107: a collection
/// started by another thread while the training thread is inside a native call can finalize an
/// implicitly converted <c>Scalar</c> argument the call is still reading ("Expected false to be true ...
/// toFloat"). The constructor waits until the ring is full, so the first-use allocations happen while
/// the caller waits. A request for any other position than the next moves the threads there
/// (<see cref="Restarts"/>). Without prefetching each batch is prepared on the calling thread.
/// </para>
/// </summary>
public sealed class ImageBatchSource : IBatchSource<ViewBatch>, IDisposable
{
    private readonly ImageBatchLoader _loader;
    private readonly BatchPrefetcher? _prefetcher;
    private readonly ImageBatchBuffer? _buffer;   // without prefetching
    private readonly LoaderWorker? _worker;

    /// <summary>
    /// Reads <paramref name="loader"/>; its batch size is the micro-batch. <paramref name="prefetch"/>
    /// prepares batches ahead on loader threads.
    /// </summary>
    public ImageBatchSource(ImageBatchLoader loader, bool prefetch = true) : this(loader, prefetch, null) { }

    /// <summary>As the public constructor; <paramref name="prepared"/> runs on a loader thread after each prefetched batch (tests).</summary>
    internal ImageBatchSource(ImageBatchLoader loader, bool prefetch, Action<LoaderPosition>? prepared)
    {
        if (loader.BatchesPerEpoch == 0)
            throw new ArgumentException($"{loader.Dataset.Name}: {loader.Dataset.Count} samples do not fill one batch of {loader.Options.BatchSize}", nameof(loader));
        _loader = loader;
        if (prefetch) _prefetcher = new BatchPrefetcher(loader, prepared);
        else
        {
            _buffer = new ImageBatchBuffer(loader.Views.Count, loader.Options.BatchSize);
            _worker = new LoaderWorker();
        }
    }

    /// <summary>The loader read.</summary>
    public ImageBatchLoader Loader => _loader;

    /// <summary>Whether batches are prepared ahead on loader threads.</summary>
    public bool Prefetching => _prefetcher is not null;

    /// <summary>Times the loader threads were moved to a position other than the next one (0 for batches asked in order).</summary>
    public int Restarts => _prefetcher?.Restarts ?? 0;

    /// <inheritdoc/>
    public int MicroBatchSize => _loader.Options.BatchSize;

    /// <inheritdoc/>
    public long BatchesPerEpoch => _loader.BatchesPerEpoch;

    /// <inheritdoc/>
    public ViewBatch Get(DataPosition position, Device device)
    {
        if (position.Epoch < 0 || position.Index < 0 || position.Index >= BatchesPerEpoch)
            throw new ArgumentOutOfRangeException(nameof(position), position, $"{_loader.Dataset.Name}: epoch >= 0 and batch in 0..{BatchesPerEpoch - 1}");
        if (_prefetcher is null)
        {
            var start = new LoaderPosition(position.Epoch, checked((int)(position.Index * MicroBatchSize)));
            _loader.Fill(_buffer!, start, _worker!, parallel: true, CancellationToken.None);
            return ToTensors(_buffer!, device);
        }
        ImageBatchBuffer buffer = _prefetcher.Take(position.Epoch * BatchesPerEpoch + position.Index);
        try { return ToTensors(buffer, device); }
        finally { _prefetcher.Return(buffer); }
    }

    /// <summary>Copies the buffer into new tensors (on the calling thread, in its dispose scope).</summary>
    private static ViewBatch ToTensors(ImageBatchBuffer buffer, Device device)
    {
        int n = buffer.Count;
        var views = new Tensor[buffer.Shapes.Length];
        for (int v = 0; v < views.Length; v++)
        {
            ImageShape s = buffer.Shapes[v];
            float[] pixels = buffer.Views[v];
            long length = (long)n * s.Size;
            if (pixels.Length != length) pixels = pixels.AsSpan(0, checked((int)length)).ToArray();   // a short last batch
            views[v] = OnDevice(torch.tensor(pixels, [n, s.Channels, s.Height, s.Width]), device);   // [B, C, H_v, W_v], a copy
        }
        long[] labels = buffer.Labels.Length == n ? buffer.Labels : buffer.Labels.AsSpan(0, n).ToArray();
        return new ViewBatch(views, OnDevice(torch.tensor(labels, [n]), device));   // [B]
    }

    private static Tensor OnDevice(Tensor t, Device device) => device.type == DeviceType.CPU ? t : t.to(device);

    /// <summary>Stops the loader threads.</summary>
    public void Dispose() => _prefetcher?.Dispose();
}
