using System.Collections.Concurrent;
using System.Runtime.ExceptionServices;
using Crate.Core.Data.Images.Transforms;

namespace Crate.Core.Data.Images;

/// <summary>
/// Batches an <see cref="IImageDataset"/> through one or more <see cref="ImagePipeline"/> views. Each
/// epoch visits the samples in a permutation drawn from (seed, epoch); each sample's augmentation draws
/// from (seed, epoch, sample, view), so a run is reproducible and resumes exactly from a saved
/// <see cref="LoaderPosition"/>. <see cref="ReadEpoch"/> decodes, augments and normalises the next
/// <see cref="ImageLoaderOptions.Prefetch"/> batches into fresh managed arrays on a loader thread while the
/// caller works; it never creates tensors (dispose scopes are thread-local): <see cref="ImageBatch.ToTensors"/>
/// does, on the caller's thread. For training, <see cref="ImageBatchSource"/> reads the same batches into
/// a fixed ring of reused buffers instead, so its loader threads allocate nothing per batch.
/// </summary>
public sealed class ImageBatchLoader
{
    private const long PermutationStream = 1, SampleStream = 2;

    private readonly IImageDataset _dataset;
    private readonly ImagePipeline[] _views;
    private readonly ImageLoaderOptions _options;
    private readonly Stack<LoaderWorker> _spareWorkers = new();
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

    /// <summary>The pipelines, one per view.</summary>
    public IReadOnlyList<ImagePipeline> Views => _views;

    /// <summary>The order in which epoch <paramref name="epoch"/> visits the dataset.</summary>
    public int[] EpochOrder(int epoch)
    {
        var order = new int[_dataset.Count];
        WriteEpochOrder(epoch, order, new DataRng(0));
        return order;
    }

    private void WriteEpochOrder(int epoch, Span<int> order, DataRng rng)
    {
        for (int i = 0; i < order.Length; i++) order[i] = i;
        if (!_options.Shuffle) return;
        rng.State = DataRng.Derive(_options.Seed, PermutationStream, epoch);
        rng.Shuffle(order);
    }

    /// <summary>
    /// The batches from <see cref="Position"/> to the end of its epoch, prepared ahead on a loader thread.
    /// Leaving the loop early stops that thread; an error there (a file that does not decode) is rethrown
    /// here with its original type.
    /// </summary>
    public IEnumerable<ImageBatch> ReadEpoch(CancellationToken cancellation = default)
    {
        LoaderPosition start = _position;
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(cancellation);
        using var queue = new BlockingCollection<(ImageBatch? Batch, ExceptionDispatchInfo? Error)>(_options.Prefetch);
        var thread = new Thread(() => Produce(start, queue, stop.Token))
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
    public ImageBatch PrepareBatch(LoaderPosition start) => Prepare(start, new LoaderWorker(), CancellationToken.None);

    private void Produce(LoaderPosition start, BlockingCollection<(ImageBatch?, ExceptionDispatchInfo?)> queue, CancellationToken stop)
    {
        var worker = new LoaderWorker();
        try
        {
            for (var at = start; at.Epoch == start.Epoch && at.Index < SamplesPerEpoch;)
            {
                ImageBatch batch = Prepare(at, worker, stop);
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

    private ImageBatch Prepare(LoaderPosition start, LoaderWorker worker, CancellationToken stop)
    {
        var buffer = new ImageBatchBuffer(_views.Length, BatchCountAt(start));
        Fill(buffer, start, worker, parallel: true, stop);
        return new ImageBatch(buffer.Views, buffer.Shapes, buffer.Labels, buffer.Indices, buffer.Start, buffer.Next);
    }

    private int BatchCountAt(LoaderPosition start)
    {
        int count = Math.Min(_options.BatchSize, SamplesPerEpoch - start.Index);
        if (count <= 0 || start.Index < 0)
            throw new ArgumentOutOfRangeException(nameof(start), start, $"no batch starts there (epoch holds {SamplesPerEpoch} samples)");
        return count;
    }

    /// <summary>
    /// Writes the batch that starts at <paramref name="start"/> into <paramref name="buffer"/> with
    /// <paramref name="worker"/>'s scratch. Sample 0 fixes each view's shape; with <paramref name="parallel"/>
    /// and several <see cref="ImageLoaderOptions.Workers"/> the other samples are spread over threads
    /// (that path allocates; the prefetching source calls this with <paramref name="parallel"/> false).
    /// </summary>
    internal void Fill(ImageBatchBuffer buffer, LoaderPosition start, LoaderWorker worker, bool parallel, CancellationToken stop)
    {
        int count = BatchCountAt(start);
        if (count > buffer.Capacity) throw new ArgumentException($"the buffer holds {buffer.Capacity} samples, the batch {count}", nameof(buffer));
        if (worker.OrderEpoch != start.Epoch || worker.Order is null)
        {
            worker.Order ??= new int[_dataset.Count];
            WriteEpochOrder(start.Epoch, worker.Order, worker.Rng);
            worker.OrderEpoch = start.Epoch;
        }
        worker.Order.AsSpan(start.Index, count).CopyTo(buffer.Indices);
        int end = start.Index + count;
        buffer.Count = count;
        buffer.Start = start;
        buffer.Next = end >= SamplesPerEpoch ? new LoaderPosition(start.Epoch + 1, 0) : new LoaderPosition(start.Epoch, end);

        FillSample(buffer, 0, worker);
        if (!parallel || _options.Workers == 1 || count <= 2)
        {
            for (int k = 1; k < count; k++)
            {
                stop.ThrowIfCancellationRequested();
                FillSample(buffer, k, worker);
            }
            return;
        }
        FillInParallel(buffer, count, stop);
    }

    // A method of its own: the lambda's closure is allocated on entry to the method that declares what it captures.
    private void FillInParallel(ImageBatchBuffer buffer, int count, CancellationToken stop)
    {
        try
        {
            Parallel.For(1, count, new ParallelOptions { MaxDegreeOfParallelism = _options.Workers, CancellationToken = stop },
                RentWorker, (k, _, w) => { FillSample(buffer, k, w); return w; }, ReturnWorker);
        }
        catch (AggregateException e) { ExceptionDispatchInfo.Throw(e.InnerExceptions[0]); }
    }

    /// <summary>Decodes sample <paramref name="k"/> of the batch, runs every view and normalises it into the buffer.</summary>
    private void FillSample(ImageBatchBuffer buffer, int k, LoaderWorker worker)
    {
        int index = buffer.Indices[k];
        buffer.Labels[k] = _dataset.GetLabel(index);
        ImageScratch scratch = worker.Scratch;
        scratch.Reset();
        ByteImage image = _dataset.GetImage(index, scratch);
        for (int v = 0; v < _views.Length; v++)
        {
            worker.Rng.State = DataRng.Derive(_options.Seed, SampleStream, buffer.Start.Epoch, index, v);
            // Steps may work in place: every view but the last gets its own copy of the decoded image.
            ByteImage input = v == _views.Length - 1 ? image : scratch.CopyOf(image);
            ByteImage output = _views[v].Transform(input, worker.Rng, scratch);
            var shape = new ImageShape(output.Channels, output.Height, output.Width);
            if (k == 0) buffer.SetShape(v, shape);
            else if (shape != buffer.Shapes[v]) throw ShapeMismatch(buffer, v, k, shape);
            _views[v].Normalize(output, buffer.Views[v].AsSpan(k * shape.Size, shape.Size));
        }
    }

    private InvalidOperationException ShapeMismatch(ImageBatchBuffer buffer, int v, int k, ImageShape shape)
    {
        ImageShape first = buffer.Shapes[v];
        return new InvalidOperationException(
            $"{_dataset.Name}: view {v} gave sample {buffer.Indices[k]} the shape {shape.Channels}x{shape.Height}x{shape.Width} " +
            $"but sample {buffer.Indices[0]} {first.Channels}x{first.Height}x{first.Width}; the pipeline needs a crop or resize to a fixed size");
    }

    private LoaderWorker RentWorker()
    {
        lock (_spareWorkers) return _spareWorkers.Count > 0 ? _spareWorkers.Pop() : new LoaderWorker();
    }

    private void ReturnWorker(LoaderWorker worker)
    {
        lock (_spareWorkers) _spareWorkers.Push(worker);
    }
}
