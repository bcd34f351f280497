using System.Runtime.ExceptionServices;

namespace Crate.Core.Data.Images;

/// <summary>
/// The loader threads of an <see cref="ImageBatchSource"/>. Batches are numbered through the run
/// (sequence = epoch · batches per epoch + batch); thread j of W prepares the sequences j, j+W, j+2W, ...
/// from where the consumer stands, each at most <c>ring</c> ahead of the consumer's next batch, into one
/// of <c>ring</c> reused buffers. Everything in the steady state (a monitor, a stack of free buffers, an
/// array of ready ones) allocates nothing. A request out of sequence starts a new generation: buffers of
/// the old one are dropped and the threads continue from the asked batch.
/// </summary>
internal sealed class BatchPrefetcher : IDisposable
{
    private readonly ImageBatchLoader _loader;
    private readonly Action<LoaderPosition>? _prepared;
    private readonly int _threads, _ring;
    private readonly long _perEpoch;
    private readonly object _lock = new();
    private readonly Stack<ImageBatchBuffer> _free;
    private readonly ImageBatchBuffer?[] _ready;   // slot sequence % ring
    private readonly Thread[] _workers;
    private long _origin, _next;                   // the generation's first batch; the consumer's next batch
    private int _generation;
    private bool _stopped, _seekNeeded;
    private ExceptionDispatchInfo? _error;
    private long _errorSequence;
    private int _errorGeneration;

    public BatchPrefetcher(ImageBatchLoader loader, Action<LoaderPosition>? prepared)
    {
        _loader = loader;
        _prepared = prepared;
        _threads = loader.Options.Workers;
        _ring = Math.Max(loader.Options.Prefetch, _threads) + 1;
        _perEpoch = loader.BatchesPerEpoch;
        _free = new Stack<ImageBatchBuffer>(_ring);
        for (int i = 0; i < _ring; i++) _free.Push(new ImageBatchBuffer(loader.Views.Count, loader.Options.BatchSize));
        _ready = new ImageBatchBuffer?[_ring];
        _workers = new Thread[_threads];
        for (int j = 0; j < _threads; j++)
        {
            int stride = j;
            _workers[j] = new Thread(() => Run(stride)) { IsBackground = true, Name = $"crate-loader-{loader.Dataset.Name}-{j}" };
            _workers[j].Start();
        }
        WaitUntilFull();
    }

    /// <summary>Times the threads were moved away from the batch they were preparing.</summary>
    public int Restarts { get; private set; }

    /// <summary>Blocks until batch <paramref name="sequence"/> is ready and hands its buffer over; give it back with <see cref="Return"/>.</summary>
    public ImageBatchBuffer Take(long sequence)
    {
        lock (_lock)
        {
            ObjectDisposedException.ThrowIf(_stopped, this);
            if (_seekNeeded || sequence < _next || sequence >= _next + _ring) Seek(sequence);
            else if (sequence > _next) SkipTo(sequence);
            while (true)
            {
                int slot = (int)(sequence % _ring);
                if (_ready[slot] is { } buffer && buffer.Sequence == sequence)
                {
                    _ready[slot] = null;
                    return buffer;
                }
                if (_error is not null && _errorGeneration == _generation && sequence >= _errorSequence)
                {
                    _seekNeeded = true;   // the failed thread moved on; a retry starts afresh
                    _error.Throw();
                }
                Monitor.Wait(_lock);
            }
        }
    }

    /// <summary>Gives a buffer from <see cref="Take"/> back; the threads may prepare one batch further.</summary>
    public void Return(ImageBatchBuffer buffer)
    {
        lock (_lock)
        {
            _free.Push(buffer);
            if (buffer.Sequence + 1 > _next) _next = buffer.Sequence + 1;
            Monitor.PulseAll(_lock);
        }
    }

    /// <summary>Stops and joins the threads.</summary>
    public void Dispose()
    {
        lock (_lock)
        {
            if (_stopped) return;
            _stopped = true;
            Monitor.PulseAll(_lock);
        }
        foreach (Thread t in _workers) t.Join();
    }

    private void WaitUntilFull()
    {
        lock (_lock)
            while (_error is null && Array.IndexOf(_ready, null) >= 0) Monitor.Wait(_lock);
    }

    private void Seek(long sequence)
    {
        _generation++;
        _origin = _next = sequence;
        for (int i = 0; i < _ready.Length; i++) Drop(i);
        _error = null;
        _seekNeeded = false;
        Restarts++;
        Monitor.PulseAll(_lock);
    }

    private void SkipTo(long sequence)
    {
        _next = sequence;
        for (int i = 0; i < _ready.Length; i++)
            if (_ready[i] is { } b && b.Sequence < sequence) Drop(i);
        Monitor.PulseAll(_lock);
    }

    private void Drop(int slot)
    {
        if (_ready[slot] is { } buffer) _free.Push(buffer);
        _ready[slot] = null;
    }

    private LoaderPosition PositionOf(long sequence) =>
        new(checked((int)(sequence / _perEpoch)), checked((int)(sequence % _perEpoch * _loader.Options.BatchSize)));

    /// <summary>Thread <paramref name="stride"/>: prepares every W-th batch of the current generation.</summary>
    private void Run(int stride)
    {
        var worker = new LoaderWorker();
        int generation = -1;
        long sequence = 0;
        while (true)
        {
            ImageBatchBuffer buffer;
            lock (_lock)
            {
                while (true)
                {
                    if (_stopped) return;
                    if (generation != _generation) (generation, sequence) = (_generation, _origin + stride);
                    while (sequence < _next) sequence += _threads;   // the consumer skipped ahead
                    if (sequence < _next + _ring && _free.Count > 0) break;
                    Monitor.Wait(_lock);
                }
                buffer = _free.Pop();
            }

            LoaderPosition start = PositionOf(sequence);
            try
            {
                _loader.Fill(buffer, start, worker, parallel: false, CancellationToken.None);
                buffer.Sequence = sequence;
                _prepared?.Invoke(start);
            }
            catch (Exception e)
            {
                lock (_lock)
                {
                    _free.Push(buffer);
                    if (generation == _generation && (_error is null || sequence < _errorSequence))
                        (_error, _errorSequence, _errorGeneration) = (ExceptionDispatchInfo.Capture(e), sequence, generation);
                    Monitor.PulseAll(_lock);
                }
                sequence += _threads;
                continue;
            }

            lock (_lock)
            {
                if (generation == _generation && sequence >= _next) _ready[(int)(sequence % _ring)] = buffer;
                else _free.Push(buffer);
                Monitor.PulseAll(_lock);
            }
            sequence += _threads;
        }
    }
}
