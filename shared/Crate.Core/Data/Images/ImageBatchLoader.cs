using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Core.Data.Images;

/// <summary>
/// Batches an <see cref="IImageDataset"/> through one or more <see cref="ImagePipeline"/> views. Each
/// epoch visits the samples in a permutation drawn from (seed, epoch); each sample's augmentation draws
/// from (seed, epoch, sample, view), so a run is reproducible and resumes exactly from a saved
/// <see cref="LoaderPosition"/>. A dedicated loader thread decodes, augments and normalises the next
/// <see cref="ImageLoaderOptions.Prefetch"/> batches into managed arrays while the training thread works;
/// it never creates tensors (dispose scopes are thread-local): <see cref="ImageBatch.ToTensors"/> does,
/// on the caller's thread.
/// </summary>
public sealed class ImageBatchLoader
{
    private const long PermutationStream = 1, SampleStream = 2;

    private readonly IImageDataset _dataset;
    private readonly ImagePipeline[] _views;
    private readonly ImageLoaderOptions _options;
    private LoaderPosition _position;

    /// <summary>A loader with one view.</summary>
    public ImageBatchLoader(IImageDataset dataset, ImagePipeline pipeline, ImageLoaderOptions options)
        : this(dataset, [pipeline], options) { }

    /// <summary>A loader that produces every sample once per pipeline in <paramref name="views"/> (multi-crop).</summary>
    public ImageBatchLoader(IImageDataset dataset, IReadOnlyList<ImagePipeline> views, ImageLoaderOptions options)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.BatchSize);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Prefetch);
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(options.Workers);
        if (views.Count == 0) throw new ArgumentException("at least one view", nameof(views));
        if (dataset.Count == 0) throw new ArgumentException($"{dataset.Name}: the dataset is empty", nameof(dataset));
        _dataset = dataset;
        _views = views.ToArray();
        _options = options;
    }

    /// <summary>The dataset read.</summary>
    public IImageDataset Dataset => _dataset;

    /// <summary>The settings.</summary>
    public ImageLoaderOptions Options => _options;

    /// <summary>Samples handed out per epoch (a multiple of the batch size when dropping the last batch).</summary>
    public int SamplesPerEpoch => _options.DropLast ? _dataset.Count / _options.BatchSize * _options.BatchSize : _dataset.Count;

    /// <summary>Batches per epoch.</summary>
    public int BatchesPerEpoch => (SamplesPerEpoch + _options.BatchSize - 1) / _options.BatchSize;

    /// <summary>
    /// The position of the next batch. Updated as batches are handed out (each batch's
    /// <see cref="ImageBatch.Next"/>); set it to a saved value to resume. At the end of an epoch it moves
    /// to (epoch + 1, 0).
    /// </summary>
    public LoaderPosition Position
    {
        get => _position;
        set
        {
            if (value.Epoch < 0 || value.Index < 0 || value.Index > SamplesPerEpoch)
                throw new ArgumentOutOfRangeException(nameof(value), value, $"epoch >= 0 and index in 0..{SamplesPerEpoch}");
            _position = value.Index == SamplesPerEpoch ? new LoaderPosition(value.Epoch + 1, 0) : value;
        }
    }

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the dataset.</summary>
    public int[] EpochOrder(int epoch)
    {
        int[] order = Enumerable.Range(0, _dataset.Count).ToArray();
        if (_options.Shuffle) new DataRng(DataRng.Derive(_options.Seed, PermutationStream, epoch)).Shuffle(order.AsSpan());
        return order;
    }

    /// <summary>
    /// The batches from <see cref="Position"/> to the end of its epoch, prepared ahead on a loader thread.
    /// Leaving the loop early stops that thread; an error there (a file that does not decode) is rethrown
    /// here with its original type.
    /// </summary>
    public IEnumerable<ImageBatch> ReadEpoch(CancellationToken cancellation = default)
    {
        LoaderPosition start = _position;
        int[] order = EpochOrder(start.Epoch);
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var queue = new BlockingCollection<(ImageBatch? Batch, ExceptionDispatchInfo? Error)>(_options.Prefetch);
        var thread = new Thread(() => Produce(start, order, queue, stop.Token))
        {
            IsBackground = true,
            Name = $"crate-loader-{_dataset.Name}",
        };
        thread.Start();
        try
        {
            foreach (var (batch, error) in queue.GetConsumingEnumerable(cancellation))
            {
                error?.Throw();
                _position = batch!.Next;
                yield return batch;
            }
            _position = new LoaderPosition(start.Epoch + 1, 0);
        }
        finally
        {
            stop.Cancel();
            thread.Join();
        }
    }

    /// <summary>Prepares the batch that starts at <paramref name="start"/> on the calling thread (no prefetch).</summary>
    public ImageBatch PrepareBatch(LoaderPosition start) => Prepare(start, EpochOrder(start.Epoch), CancellationToken.None);

    private void Produce(LoaderPosition start, int[] order, BlockingCollection<(ImageBatch?, ExceptionDispatchInfo?)> queue, CancellationToken stop)
    {
        try
        {
            for (var at = start; at.Epoch == start.Epoch && at.Index < SamplesPerEpoch;)
            {
                ImageBatch batch = Prepare(at, order, stop);
                queue.Add((batch, null), stop);
                at = batch.Next;
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested) { return; }
        catch (Exception e)
        {
            try { queue.Add((null, ExceptionDispatchInfo.Capture(e)), stop); }
            catch (OperationCanceledException) { return; }
        }
        queue.CompleteAdding();
    }

    private ImageBatch Prepare(LoaderPosition start, int[] order, CancellationToken stop)
    {
        int count = Math.Min(_options.BatchSize, SamplesPerEpoch - start.Index);
        if (count <= 0 || start.Index < 0)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"no batch starts there (epoch holds {SamplesPerEpoch} samples)");
        var indices = order.AsSpan(start.Index, count).ToArray();
        var labels = new long[count];
        var outputs = new ByteImage[_views.Length][];
        for (int v = 0; v < _views.Length; v++) outputs[v] = new ByteImage[count];

        void Sample(int k)
        {
            int index = indices[k];
            labels[k] = _dataset.GetLabel(index);
            ByteImage image = _dataset.GetImage(index);
            for (int v = 0; v < _views.Length; v++)
            {
                var rng = new DataRng(DataRng.Derive(_options.Seed, SampleStream, start.Epoch, index, v));
                // Steps may work in place: every view but the last gets its own copy of the decoded image.
                ByteImage input = v == _views.Length - 1 ? image : new ByteImage(image.Channels, image.Height, image.Width, (byte[])image.Data.Clone());
                outputs[v][k] = _views[v].Transform(input, rng);
            }
        }

        if (_options.Workers == 1)
            for (int k = 0; k < count; k++) { stop.ThrowIfCancellationRequested(); Sample(k); }
        else
        {
            try { Parallel.For(0, count, new ParallelOptions { MaxDegreeOfParallelism = _options.Workers, CancellationToken = stop }, Sample); }
            catch (AggregateException e) { ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); }
        }

        var views = new float[_views.Length][];
        var shapes = new ImageShape[_views.Length];
        for (int v = 0; v < _views.Length; v++)
        {
            ByteImage first = outputs[v][0];
            shapes[v] = new ImageShape(first.Channels, first.Height, first.Width);
            views[v] = new float[(long)count * shapes[v].Size];   // [N, C, H, W]
            for (int k = 0; k < count; k++)
            {
                ByteImage image = outputs[v][k];
                if (image.Channels != first.Channels || image.Height != first.Height || image.Width != first.Width)
                    throw new InvalidOperationException(
                        $"{_dataset.Name}: view {v} gave sample {indices[k]} the shape {image.Channels}x{image.Height}x{image.Width} " +
                        $"but sample {indices[0]} {first.Channels}x{first.Height}x{first.Width}; the pipeline needs a crop or resize to a fixed size");
                _views[v].Normalize(image, views[v].AsSpan(k * shapes[v].Size, shapes[v].Size));
            }
        }

        int end = start.Index + count;
        var next = end >= SamplesPerEpoch ? new LoaderPosition(start.Epoch + 1, 0) : new LoaderPosition(start.Epoch, end);
        return new ImageBatch(views, shapes, labels, indices, start, next);
    }
}
