using Crate.Core.Data.Images;
using Crate.Core.Training;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>One micro-batch: normalised images [B, C, H, W] and labels [B].</summary>
public sealed record LabeledImages(Tensor Images, Tensor Labels);

/// <summary>
/// The trainer's <see cref="IBatchSource{TBatch}"/> over an <see cref="ImageBatchLoader"/>. The loader is
/// already a pure function of the position (epoch e visits a permutation drawn from (seed, e), and each
/// sample's augmentation draws from (seed, e, sample)), so micro-batch (e, i) is the loader batch that
/// starts at sample i·B of epoch e (the last short batch is dropped).
/// <para>
/// Without <c>prefetch</c> each batch is prepared on the calling (training) thread. With it, consecutive
/// positions come from the loader's thread, prepared ahead, and any other request (a resume, an epoch cut
/// short by the accumulation) restarts that thread at the asked position. Prefetching is off by default:
/// with TorchSharp 0.107 a garbage collection started by another thread while the training thread is inside
/// a native call can finalize an implicitly converted <c>Scalar</c> argument that the call is still reading
/// (its finalizer frees the native scalar); the loader thread allocates a new batch array every batch and so
/// starts many such collections. One run of the ViT crashed that way ("Expected false to be true ... toFloat").
/// </para>
/// </summary>
public sealed class LoaderBatchSource : IBatchSource<LabeledImages>, IDisposable
{
    private readonly ImageBatchLoader _loader;
    private readonly bool _prefetch;
    private IEnumerator<ImageBatch>? _stream;
    private LoaderPosition _next;

    /// <summary>
    /// Wraps <paramref name="loader"/>; its batch size is the micro-batch and it must drop the last short batch.
    /// <paramref name="prefetch"/> prepares batches ahead on the loader's thread.
    /// </summary>
    public LoaderBatchSource(ImageBatchLoader loader, bool prefetch = false)
    {
        if (!loader.Options.DropLast)
            throw new ArgumentException("the training loader must drop the last short batch (every micro-batch has the same size)", nameof(loader));
        _loader = loader;
        _prefetch = prefetch;
    }

    /// <inheritdoc/>
    public int MicroBatchSize => _loader.Options.BatchSize;

    /// <inheritdoc/>
    public long BatchesPerEpoch => _loader.BatchesPerEpoch;

    /// <summary>Times the loader thread had to be (re)started: once per epoch plus once per out-of-order request.</summary>
    public int Restarts { get; private set; }

    /// <inheritdoc/>
    public LabeledImages Get(DataPosition position, Device device)
    {
        var start = new LoaderPosition(position.Epoch, checked((int)(position.Index * MicroBatchSize)));
        ImageBatch batch = _prefetch ? Take(start) : _loader.PrepareBatch(start);
        var (images, labels) = batch.ToTensors(device);             // [B, C, H, W], [B]
        return new LabeledImages(images, labels);
    }

    private ImageBatch Take(LoaderPosition start)
    {
        if (_stream is null || _next != start || !_stream.MoveNext())
        {
            Restart(start);
            if (!_stream!.MoveNext())
                throw new InvalidOperationException($"{_loader.Dataset.Name}: no batch at epoch {start.Epoch}, sample {start.Index}");
        }
        var batch = _stream.Current;
        if (batch.Start != start)
            throw new InvalidOperationException($"{_loader.Dataset.Name}: the loader produced the batch at {batch.Start}, not {start}");
        _next = batch.Next;
        return batch;
    }

    private void Restart(LoaderPosition start)
    {
        _stream?.Dispose();
        _loader.Position = start;
        _stream = _loader.ReadEpoch().GetEnumerator();
        Restarts++;
    }

    /// <summary>Stops the loader thread.</summary>
    public void Dispose()
    {
        _stream?.Dispose();
        _stream = null;
    }
}
