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
/// starts at sample i·B of epoch e (the last short batch is dropped). While the trainer asks for
/// consecutive positions, batches come from the loader's thread, prepared ahead; any other request
/// (a resume, an epoch cut short by the accumulation) restarts that thread at the asked position.
/// </summary>
public sealed class LoaderBatchSource : IBatchSource<LabeledImages>, IDisposable
{
    private readonly ImageBatchLoader _loader;
    private IEnumerator<ImageBatch>? _stream;
    private LoaderPosition _next;

    /// <summary>Wraps <paramref name="loader"/>; its batch size is the micro-batch and it must drop the last short batch.</summary>
    public LoaderBatchSource(ImageBatchLoader loader)
    {
        if (!loader.Options.DropLast)
            throw new ArgumentException("the training loader must drop the last short batch (every micro-batch has the same size)", nameof(loader));
        _loader = loader;
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
        ImageBatch batch = Take(start);
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
