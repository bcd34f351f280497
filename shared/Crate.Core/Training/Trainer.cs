using System.Diagnostics;
using System.Globalization;
using Crate.Core.Contract;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>
/// The training engine shared by every task. On the calling thread it runs optimizer steps of
/// <c>accumulation</c> micro-batches each, with a dispose scope around every step and every evaluation
/// batch; warm-up + cosine learning rate, gradient clipping, a NaN/Inf guard, progress every step,
/// an evaluation and epoch row at each epoch end (or interval), checkpoints, exact resume and cancellation.
/// Extension points: <see cref="TrainingSpec{TBatch}.BeforeOptimizerStep"/> (gradients after clipping),
/// <see cref="TrainingSpec{TBatch}.AfterStep"/> (after the update), auxiliary training metrics
/// (<see cref="StepContext.Record(string, double)"/>, averaged into the rows as <c>train_&lt;name&gt;</c>) and
/// per-parameter learning-rate / weight-decay scales (<see cref="TrainerOptions.ParameterScales"/>).
/// Inside a <see cref="RunPhase"/> it trains that phase, with the phase's checkpoint folder and rows.
/// <para>
/// Randomness is a function of the position, not of history: before step s torch's default generator is
/// seeded with <c>Derive(Dropout, s)</c> and the step's generator with <c>Derive(Masking, s·A + micro)</c>;
/// the data source is a pure function of (epoch, index). A checkpoint therefore needs only the step and data
/// position to reproduce the uninterrupted run exactly (<see cref="TrainingSeeds"/>).
/// </para>
/// </summary>
public sealed class Trainer<TBatch>
{
    private const int ThroughputWindow = 20;
    private readonly TrainingSpec<TBatch> _spec;
    private readonly TrainerOptions _options;
    private readonly IRunContext _context;
    private readonly TrainingSeeds _seeds;
    private readonly LrSchedule _schedule;
    private readonly CheckpointStore _store;

    /// <summary>Checks the options against the data and prepares the schedule; nothing runs yet.</summary>
    public Trainer(TrainingSpec<TBatch> spec, TrainerOptions options, IRunContext context)
    {
        options.Validate();
        (_spec, _options, _context) = (spec, options, context);
        if (spec.Trainable.Count == 0) throw new TrainerConfigException("the training spec lists no trainable module");
        if (spec.Data.MicroBatchSize != options.EffectiveMicroBatch)
            throw new TrainerConfigException($"the batch source yields micro-batches of {spec.Data.MicroBatchSize} samples, " +
                                             $"the options ask for {options.EffectiveMicroBatch}");
        StepsPerEpoch = spec.Data.BatchesPerEpoch / options.Accumulation;
        if (StepsPerEpoch < 1)
            throw new TrainerConfigException($"the data has {spec.Data.BatchesPerEpoch} micro-batches per epoch, " +
                                             $"fewer than one step of {options.Accumulation} accumulated micro-batches");
        TotalSteps = options.MaxSteps ?? options.Epochs * StepsPerEpoch;
        long warmup = options.WarmupEpochs is { } we ? (long)Math.Round(we * StepsPerEpoch) : options.WarmupSteps;
        _schedule = new LrSchedule(options.LearningRate, options.MinLearningRate, Math.Min(warmup, TotalSteps), TotalSteps);
        _seeds = TrainingSeeds.From(context.Seed);
        _store = new CheckpointStore(context.CheckpointDirectory, options.KeepCheckpoints);
        Device = Devices.Resolve(options.Device ?? context.Device);
    }

    /// <summary>Optimizer steps per epoch: ⌊micro-batches per epoch / accumulation⌋.</summary>
    public long StepsPerEpoch { get; }

    /// <summary>Optimizer steps of the whole run.</summary>
    public long TotalSteps { get; }

    /// <summary>The device the modules are moved to.</summary>
    public Device Device { get; }

    /// <summary>The learning-rate schedule in use.</summary>
    public LrSchedule Schedule => _schedule;

    /// <summary>Raised after every optimizer step.</summary>
    public event Action<StepReport>? StepCompleted;

    /// <summary>
    /// Trains to the end (or resumes from <see cref="IRunContext.ResumeCheckpoint"/> and continues). Throws
    /// <see cref="OperationCanceledException"/> after checkpointing when the context is cancelled, and
    /// <see cref="NonFiniteLossException"/> (without checkpointing) when the loss or gradient norm is not finite,
    /// unless <see cref="TrainerOptions.NanRetries"/> allows another rollback: then it reloads the last good
    /// checkpoint, halves the learning rate and goes on.
    /// </summary>
    public TrainingResult Run()
    {
        string? resumeFrom = _context.ResumeCheckpoint is { } r ? CheckpointStore.Resolve(r) : null;
        List<NanRetry>? rollbacks = null;   // null: the checkpoint's own list
        while (true)
        {
            try
            {
                return Train(resumeFrom, rollbacks);
            }
            catch (NonFiniteLossException e) when (e.Retries < _options.NanRetries && e.LastCheckpoint is not null)
            {
                string checkpoint = CheckpointStore.Resolve(e.LastCheckpoint);
                string statePath = Path.Combine(checkpoint, CheckpointStore.StateFile);
                long resumedStep = TrainerState.FromJson(File.ReadAllText(statePath), statePath).Step;
                // The history comes from the failed attempt, not from the checkpoint (which may predate earlier rollbacks),
                // so every catch adds one and the loop ends after NanRetries rollbacks.
                var rollback = new NanRetry(e.Retries + 1, e.Step + 1, e.Quantity, e.LastFiniteLoss, resumedStep, checkpoint, e.LearningRateScale / 2);
                rollbacks = [.. e.History, rollback];
                _context.Logger.LogWarning(
                    "The {Quantity} is {Value} at step {Step}/{Total} (last finite loss {Loss}); rollback {Attempt} of {Max}: " +
                    "back to step {Resumed} ({Checkpoint}) with the learning rate x{Scale}",
                    e.Quantity, e.Value, e.Step + 1, TotalSteps, e.LastFiniteLoss, rollback.Attempt, _options.NanRetries,
                    resumedStep, checkpoint, rollback.LearningRateScale);
                resumeFrom = checkpoint;
            }
        }
    }

    /// <summary>
    /// One attempt: from <paramref name="resumeFrom"/> (or the start) to the end; <paramref name="rollbacks"/> (every rollback
    /// so far, the last one leading here) when it follows a non-finite loss.
    /// </summary>
    private TrainingResult Train(string? resumeFrom, List<NanRetry>? rollbacks)
    {
        var modules = _spec.AllModules;
        foreach (var frozen in _spec.Frozen)
            foreach (var p in frozen.parameters()) p.requires_grad = false;

        var run = new RunState();
        if (resumeFrom is not null) run = LoadModulesAndState(resumeFrom, modules);
        else if (CheckpointStore.FindLatest(_store.Directory) is { } existing)
            throw new TrainerConfigException($"checkpoint folder {_store.Directory} already holds a checkpoint ({existing}) but no " +
                                             "resume was asked for: resume from it or delete the folder");

        foreach (var m in modules) m.to(Device);
        ApplyPrecision(modules);
        var parameters = ParameterGroups.Collect(_spec.Trainable, _options.DecayFilter, _options.ParameterScales);
        if (parameters.Count == 0) throw new TrainerConfigException("the trainable modules have no parameter that requires a gradient");
        var settings = new OptimizerSettings(_options.Beta1, _options.EffectiveBeta2, _options.Eps, _options.WeightDecay);
        using var optimizer = settings.Create(_options.Optimizer, parameters);
        if (resumeFrom is not null)
        {
            if (run.GroupLayout is { } saved && saved != OptimizerGroups.Layout(parameters))
                throw new TrainerConfigException($"checkpoint {resumeFrom} was written with the optimizer groups {saved}, this run has " +
                                                 $"{OptimizerGroups.Layout(parameters)}; restore the original recipe or start a fresh run");
            using var reader = new BinaryReader(File.OpenRead(Path.Combine(resumeFrom, CheckpointStore.OptimizerFile)));
            optimizer.Load(reader);
            _context.Logger.LogInformation("Resumed from {Checkpoint} at step {Step}/{Total}", resumeFrom, run.Step, TotalSteps);
        }
        using var generator = new Generator((ulong)_seeds.Masking, Device);
        var step = new StepContext(Device, generator, TotalSteps);
        run.GroupLayout = OptimizerGroups.Layout(parameters);
        var clock = new Clock(run.ElapsedSeconds);
        run.LastCheckpoint = resumeFrom;
        if (rollbacks is not null)
        {
            run.LearningRateScale = rollbacks[^1].LearningRateScale;
            run.NanRetries = rollbacks;
        }
        // A rollback needs a checkpoint to go back to, also before the first evaluation.
        else if (resumeFrom is null && _options.NanRetries > 0)
            run.LastCheckpoint = SaveCheckpoint(run, optimizer, modules, clock, evalPending: false);

        if (run.EvalPending) EvaluateAndCheckpoint(run, optimizer, modules, clock);
        while (run.Step < TotalSteps)
        {
            if (_context.Cancellation.IsCancellationRequested) throw Cancelled(run, optimizer, modules, clock, evalPending: false);
            var started = clock.Session.Elapsed;
            var report = TakeStep(run, optimizer, parameters, step);
            clock.Record((clock.Session.Elapsed - started).TotalSeconds, _options.BatchSize);
            Report(run, report, clock);

            bool epochEnded = run.Position.Index == 0;
            bool evalDue = run.Step == TotalSteps
                           || (_options.EvalEverySteps > 0 ? run.Step % _options.EvalEverySteps == 0 : epochEnded);
            if (evalDue) EvaluateAndCheckpoint(run, optimizer, modules, clock);
            else if (_options.CheckpointEverySteps > 0 && run.Step % _options.CheckpointEverySteps == 0)
                run.LastCheckpoint = SaveCheckpoint(run, optimizer, modules, clock, evalPending: false);
        }
        if (run.LastCheckpoint is null || run.CheckpointStep != run.Step)
            run.LastCheckpoint = SaveCheckpoint(run, optimizer, modules, clock, evalPending: false);
        return new TrainingResult(run.Step, run.Rows, run.Rows.Count > 0 ? run.Rows[^1].Metrics : new Dictionary<string, double>(),
            run.BestValue, run.BestStep, run.LastCheckpoint!, run.BestValue is null ? null : _store.BestPath, clock.Elapsed.TotalSeconds)
        {
            NanRetries = run.NanRetries.ToList(),
        };
    }

    /// <summary>
    /// Sets <see cref="TrainerOptions.Precision"/>'s compute type on every precision-aware module
    /// (<see cref="Modules.MixedPrecision.Apply"/>); it stays set, so the evaluation (and whatever the task runs on the
    /// modules afterwards) computes in the same precision. bf16 on a model with no precision-aware module is an error.
    /// </summary>
    private void ApplyPrecision(IReadOnlyList<nn.Module> modules)
    {
        int aware = modules.Sum(m => Modules.MixedPrecision.Apply(m, _options.Precision));
        if (_options.Precision == Precision.Fp32) return;
        if (aware == 0)
            throw new TrainerConfigException($"precision {_options.Precision} was asked for, but none of the modules " +
                                             $"({string.Join(", ", modules.Select(m => m.GetName()))}) has a precision-aware sub-block");
        _context.Logger.LogInformation("Precision {Precision}: {Count} sub-blocks compute in bfloat16 on {Device}; weights, " +
                                       "optimizer state, norms and the loss stay float32", _options.Precision, aware, Device.type);
    }

    /// <summary>One optimizer step: accumulate gradients over the micro-batches, clip, guard, update.</summary>
    private StepReport TakeStep(RunState run, ITrainOptimizer optimizer, IReadOnlyList<NamedParameter> parameters, StepContext ctx)
    {
        using var scope = NewDisposeScope();
        long s = run.Step;
        long dropoutSeed = SeedMath.Derive(_seeds.Dropout, s);
        manual_seed(dropoutSeed);
        if (Device.type == DeviceType.CUDA) cuda.manual_seed_all(dropoutSeed);
        foreach (var m in _spec.Trainable) m.train();
        foreach (var m in _spec.Frozen) m.eval();

        double lr = _schedule.At(s) * run.LearningRateScale;
        optimizer.SetLearningRate(lr);
        if (_options.WeightDecayEnd is { } wdEnd) optimizer.SetWeightDecay(LrSchedule.Cosine(_options.WeightDecay, wdEnd, s, TotalSteps));
        optimizer.ZeroGrad();
        (ctx.Step, ctx.LearningRate) = (s, lr);
        ctx.BeginStep();
        int epoch = run.Position.Epoch + 1;
        int accumulation = _options.Accumulation;
        double lossSum = 0;
        for (int micro = 0; micro < accumulation; micro++)
        {
            using var microScope = NewDisposeScope();
            (ctx.MicroBatch, ctx.Position) = (micro, run.Position);
            ctx.Generator.manual_seed(SeedMath.Derive(_seeds.Masking, s * accumulation + micro));
            var batch = _spec.Data.Get(run.Position, Device);
            var loss = _spec.Loss(batch, ctx);
            if (loss.numel() != 1) throw new TrainerConfigException($"the loss function returned shape [{string.Join(", ", loss.shape)}], not a scalar");
            double value = loss.ToDouble();
            if (!double.IsFinite(value))
                throw new NonFiniteLossException("loss", value, s, TotalSteps, run.Position, run.LastCheckpoint, run.LastLoss, run.NanRetries.Count, run.LearningRateScale)
                { History = run.NanRetries.ToList() };
            (accumulation == 1 ? loss : loss / accumulation).backward();
            lossSum += value;
            run.Position = Advance(run.Position);
        }
        double norm = GradientNorm.ClipAndMeasure(parameters.Select(p => p.Parameter), _options.GradClip);
        if (!double.IsFinite(norm))
            throw new NonFiniteLossException("gradient norm", norm, s, TotalSteps, ctx.Position, run.LastCheckpoint, run.LastLoss, run.NanRetries.Count, run.LearningRateScale)
                { History = run.NanRetries.ToList() };
        _spec.BeforeOptimizerStep?.Invoke(ctx);
        optimizer.Step();
        if (_spec.AfterStep is { } after)
        {
            using var noGrad = no_grad();
            after(ctx);
        }
        run.Step = s + 1;
        double meanLoss = lossSum / accumulation;
        run.LastLoss = meanLoss;
        run.IntervalLossSum += meanLoss; run.IntervalGradNormSum += norm; run.IntervalSteps++;
        foreach (var (name, value) in ctx.StepMetrics())
        {
            run.IntervalAux.TryGetValue(name, out var sum);
            run.IntervalAux[name] = new AuxSum(sum.Sum + value, sum.Count + 1);
        }
        run.LastLearningRate = lr; run.LastEpoch = epoch;
        return new StepReport(run.Step, epoch, meanLoss, lr, norm);
    }

    private DataPosition Advance(DataPosition p) =>
        p.Index + 1 >= StepsPerEpoch * _options.Accumulation ? new DataPosition(p.Epoch + 1, 0) : p with { Index = p.Index + 1 };

    private void Report(RunState run, StepReport report, Clock clock)
    {
        var (rate, secondsPerStep) = clock.Throughput();
        TimeSpan? eta = secondsPerStep > 0 ? TimeSpan.FromSeconds(secondsPerStep * (TotalSteps - run.Step)) : null;
        _context.ReportProgress(new ProgressInfo(report.Step, TotalSteps, report.Epoch, report.Loss, report.LearningRate,
            rate, clock.Elapsed, eta));
        StepCompleted?.Invoke(report);
    }

    /// <summary>Evaluates, writes the epoch row, tracks the best model and checkpoints.</summary>
    private void EvaluateAndCheckpoint(RunState run, ITrainOptimizer optimizer, IReadOnlyList<nn.Module> modules, Clock clock)
    {
        var metrics = new Dictionary<string, double>(StringComparer.Ordinal);
        if (run.IntervalSteps > 0)
        {
            metrics["train_loss"] = run.IntervalLossSum / run.IntervalSteps;
            metrics["grad_norm"] = run.IntervalGradNormSum / run.IntervalSteps;
        }
        foreach (var (name, sum) in run.IntervalAux.OrderBy(kv => kv.Key, StringComparer.Ordinal))
            if (!metrics.TryAdd("train_" + name, sum.Sum / sum.Count))
                throw new TrainerConfigException($"auxiliary metric '{name}' clashes with the trainer's 'train_{name}'");
        metrics["lr"] = run.LastLearningRate;
        if (run.NanRetries.Count > 0)
        {
            metrics["nan_retries"] = run.NanRetries.Count;
            metrics["lr_scale"] = run.LearningRateScale;
        }
        metrics["samples_per_s"] = clock.Throughput().SamplesPerSecond;
        if (_spec.Evaluate is { } evaluate)
        {
            if (_context.Cancellation.IsCancellationRequested) throw Cancelled(run, optimizer, modules, clock, evalPending: true);
            IReadOnlyDictionary<string, double> evaluated;
            try { evaluated = RunEvaluation(evaluate, run, modules); }
            catch (OperationCanceledException) when (_context.Cancellation.IsCancellationRequested)
            {
                throw Cancelled(run, optimizer, modules, clock, evalPending: true);
            }
            foreach (var (name, value) in evaluated)
                if (!metrics.TryAdd(name, value))
                    throw new TrainerConfigException($"evaluation metric '{name}' clashes with a metric the trainer reports");
        }
        var row = new EpochRow(run.LastEpoch, run.Step, metrics, _context.Phase);
        run.Rows.Add(row);
        _context.ReportEpoch(row);
        _context.Logger.LogInformation("epoch {Epoch} step {Step}/{Total}: {Metrics}", row.Epoch, row.Step, TotalSteps,
            string.Join(", ", metrics.Select(kv => kv.Key + "=" + kv.Value.ToString("G5", CultureInfo.InvariantCulture))));
        (run.IntervalLossSum, run.IntervalGradNormSum, run.IntervalSteps) = (0, 0, 0);
        run.IntervalAux.Clear();
        TrackBest(run, metrics, modules);
        run.LastCheckpoint = SaveCheckpoint(run, optimizer, modules, clock, evalPending: false);
    }

    private IReadOnlyDictionary<string, double> RunEvaluation(Func<EvalContext, IReadOnlyDictionary<string, double>> evaluate,
        RunState run, IReadOnlyList<nn.Module> modules)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        foreach (var m in modules) m.eval();
        long evalSeed = SeedMath.Derive(_seeds.Eval, run.Step);
        manual_seed(evalSeed);
        if (Device.type == DeviceType.CUDA) cuda.manual_seed_all(evalSeed);
        try { return evaluate(new EvalContext(Device, run.Step, run.LastEpoch, _context.Cancellation)); }
        finally { foreach (var m in _spec.Trainable) m.train(); }
    }

    private void TrackBest(RunState run, Dictionary<string, double> metrics, IReadOnlyList<nn.Module> modules)
    {
        if (_options.BestMetric is not { } name) return;
        if (!metrics.TryGetValue(name, out double value))
            throw new TrainerConfigException($"best metric '{name}' is not among the epoch row's metrics ({string.Join(", ", metrics.Keys)})");
        bool better = run.BestValue is not { } best || (_options.HigherIsBetter ? value > best : value < best);
        if (!better) return;
        (run.BestValue, run.BestStep) = (value, run.Step);
        _store.WriteBest(dir =>
        {
            for (int i = 0; i < modules.Count; i++) ModuleState.Save(modules[i], Path.Combine(dir, CheckpointStore.ModuleFile(i)));
            CheckpointStore.ReplaceFile(Path.Combine(dir, "best.json"),
                $"{{\"metric\": \"{name}\", \"value\": {value.ToString("R", CultureInfo.InvariantCulture)}, \"step\": {run.Step}}}\n");
        });
    }

    /// <summary>Checkpoints at the current step boundary and builds the exception that ends the run.</summary>
    private OperationCanceledException Cancelled(RunState run, ITrainOptimizer optimizer, IReadOnlyList<nn.Module> modules, Clock clock, bool evalPending)
    {
        run.LastCheckpoint = SaveCheckpoint(run, optimizer, modules, clock, evalPending);
        _context.Logger.LogInformation("Cancelled at step {Step}/{Total}; checkpoint {Checkpoint}", run.Step, TotalSteps, run.LastCheckpoint);
        return new OperationCanceledException(
            $"Training cancelled at step {run.Step}/{TotalSteps}{(evalPending ? " (before its evaluation)" : "")}; " +
            $"checkpoint saved to {run.LastCheckpoint}", _context.Cancellation);
    }

    private string SaveCheckpoint(RunState run, ITrainOptimizer optimizer, IReadOnlyList<nn.Module> modules, Clock clock, bool evalPending)
    {
        var state = new TrainerState
        {
            Step = run.Step, TotalSteps = TotalSteps, Epoch = run.Position.Epoch, Index = run.Position.Index,
            Optimizer = optimizer.Kind.ToString(), BatchSize = _options.BatchSize, MicroBatchSize = _options.EffectiveMicroBatch,
            BatchesPerEpoch = _spec.Data.BatchesPerEpoch, Seed = _context.Seed, ModuleCount = modules.Count,
            ElapsedSeconds = clock.Elapsed.TotalSeconds, EvalPending = evalPending,
            BestMetric = _options.BestMetric, BestValue = run.BestValue, BestStep = run.BestStep,
            IntervalLossSum = run.IntervalLossSum, IntervalGradNormSum = run.IntervalGradNormSum, IntervalSteps = run.IntervalSteps,
            IntervalAux = run.IntervalAux.ToDictionary(kv => kv.Key, kv => new TrainerState.AuxDto(kv.Value.Sum, kv.Value.Count), StringComparer.Ordinal),
            LastLearningRate = run.LastLearningRate, LastEpoch = run.LastEpoch, GroupLayout = run.GroupLayout,
            Rows = run.Rows.Select(TrainerState.RowDto.From).ToList(),
            LastLoss = run.LastLoss, LearningRateScale = run.LearningRateScale, NanRetries = run.NanRetries.ToList(),
        };
        string path = _store.Write(run.Step, dir =>
        {
            for (int i = 0; i < modules.Count; i++) ModuleState.Save(modules[i], Path.Combine(dir, CheckpointStore.ModuleFile(i)));
            using (var stream = new FileStream(Path.Combine(dir, CheckpointStore.OptimizerFile), FileMode.CreateNew, FileAccess.Write))
            {
                using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.Save(writer);
                stream.Flush(flushToDisk: true);
            }
            CheckpointStore.ReplaceFile(Path.Combine(dir, CheckpointStore.StateFile), state.ToJson());
        });
        run.CheckpointStep = run.Step;
        return path;
    }

    private RunState LoadModulesAndState(string folder, IReadOnlyList<nn.Module> modules)
    {
        string statePath = Path.Combine(folder, CheckpointStore.StateFile);
        var s = TrainerState.FromJson(File.ReadAllText(statePath), statePath);
        void Same<T>(string what, T saved, T now)
        {
            if (!EqualityComparer<T>.Default.Equals(saved, now))
                throw new TrainerConfigException($"checkpoint {folder} was written with {what} = {saved}, this run has {now}; " +
                                                 "restore the original recipe or start a fresh run");
        }
        Same("optimizer", s.Optimizer, _options.Optimizer.ToString());
        Same("batch size", s.BatchSize, _options.BatchSize);
        Same("micro-batch size", s.MicroBatchSize, _options.EffectiveMicroBatch);
        Same("micro-batches per epoch", s.BatchesPerEpoch, _spec.Data.BatchesPerEpoch);
        Same("total steps", s.TotalSteps, TotalSteps);
        Same("seed", s.Seed, (long)_context.Seed);
        Same("module count", s.ModuleCount, modules.Count);
        for (int i = 0; i < modules.Count; i++) ModuleState.Load(modules[i], Path.Combine(folder, CheckpointStore.ModuleFile(i)));
        return new RunState
        {
            Step = s.Step, Position = new DataPosition(s.Epoch, s.Index), ElapsedSeconds = s.ElapsedSeconds,
            EvalPending = s.EvalPending, BestValue = s.BestValue, BestStep = s.BestStep,
            IntervalLossSum = s.IntervalLossSum, IntervalGradNormSum = s.IntervalGradNormSum, IntervalSteps = s.IntervalSteps,
            LastLearningRate = s.LastLearningRate, LastEpoch = s.LastEpoch, CheckpointStep = s.Step, GroupLayout = s.GroupLayout,
            IntervalAux = (s.IntervalAux ?? []).ToDictionary(kv => kv.Key, kv => new AuxSum(kv.Value.Sum, kv.Value.Count), StringComparer.Ordinal),
            Rows = s.Rows.Select(r => r.ToRow(_context.Phase)).ToList(),
            LastLoss = s.LastLoss, LearningRateScale = s.LearningRateScale, NanRetries = s.NanRetries ?? [],
        };
    }

    /// <summary>Mutable progress of one run.</summary>
    private sealed class RunState
    {
        public long Step { get; set; }
        public DataPosition Position { get; set; }
        public double ElapsedSeconds { get; init; }
        public bool EvalPending { get; init; }
        public double? BestValue { get; set; }
        public long? BestStep { get; set; }
        public double IntervalLossSum { get; set; }
        public double IntervalGradNormSum { get; set; }
        public long IntervalSteps { get; set; }
        public double LastLearningRate { get; set; }
        public int LastEpoch { get; set; } = 1;
        public Dictionary<string, AuxSum> IntervalAux { get; init; } = new(StringComparer.Ordinal);
        public string? GroupLayout { get; set; }
        public List<EpochRow> Rows { get; init; } = [];
        public string? LastCheckpoint { get; set; }
        public long CheckpointStep { get; set; } = -1;
        public double? LastLoss { get; set; }
        public double LearningRateScale { get; set; } = 1;
        public List<NanRetry> NanRetries { get; set; } = [];
    }

    /// <summary>Sum and count of one auxiliary metric over the steps of the current evaluation interval.</summary>
    private readonly record struct AuxSum(double Sum, long Count);

    /// <summary>Elapsed time across resumes and a sliding window of step times for samples/s and ETA.</summary>
    private sealed class Clock(double priorSeconds)
    {
        private readonly Queue<(double Seconds, int Samples)> _window = new();
        public Stopwatch Session { get; } = Stopwatch.StartNew();
        public TimeSpan Elapsed => TimeSpan.FromSeconds(priorSeconds) + Session.Elapsed;

        public void Record(double seconds, int samples)
        {
            _window.Enqueue((seconds, samples));
            if (_window.Count > ThroughputWindow) _window.Dequeue();
        }

        public (double SamplesPerSecond, double SecondsPerStep) Throughput()
        {
            double seconds = _window.Sum(w => w.Seconds);
            return seconds <= 0 ? (0, 0) : (_window.Sum(w => w.Samples) / seconds, seconds / _window.Count);
        }
    }
}
