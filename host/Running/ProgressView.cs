using System.Diagnostics;
using System.Globalization;
using Crate.Core.Contract;

namespace Crate.Host.Running;

/// <summary>
/// Live progress of the runs in flight and the whole plan (a bar, step, loss, samples/s, ETA): one status line per
/// job (<c>reproduce --jobs N</c> runs N at once; <see cref="Job"/> is a job's slot, the view itself slot 0). On a
/// terminal it rewrites the status lines in place, each cut to the terminal's width so it never wraps (several
/// lines are redrawn with ANSI cursor moves); when output is redirected it prints a job's line every
/// <see cref="RedirectedInterval"/>. Each evaluation is one line in aligned columns (<see cref="EvaluationLine"/>),
/// printed above the status lines. Thread-safe.
/// </summary>
public sealed class ProgressView(TextWriter output, int totalRuns, bool interactive, int jobs = 1) : IRunProgress
{
    /// <summary>How often a job's line is printed when output is not a terminal.</summary>
    public static readonly TimeSpan RedirectedInterval = TimeSpan.FromSeconds(15);

    private readonly object _gate = new();
    private readonly Stopwatch _plan = Stopwatch.StartNew();
    private readonly List<TimeSpan> _finished = [];
    private readonly SortedDictionary<int, Slot> _slots = [];
    private int _started;
    private TimeSpan? _lastDrawn;
    private int _drawn;          // status lines on the screen (interactive)
    private int _lastWidth;      // length of the one status line drawn (interactive, one line)

    private sealed class Slot
    {
        public int Index;
        public string Label = "";
        public TimeSpan? LastPrinted;
        public string? Line;
    }

    /// <summary>Job <paramref name="slot"/>'s progress (0 ≤ slot &lt; jobs); slot 0 is the view itself.</summary>
    public IRunProgress Job(int slot) => slot == 0 ? this : new JobSlot(this, slot);

    private sealed class JobSlot(ProgressView view, int slot) : IRunProgress
    {
        public void StartRun(int index, string label) => view.StartRun(slot, index, label);
        public void EndRun(TimeSpan? duration) => view.EndRun(slot, duration);
        public void Message(string text) => view.Message(text);
        public void Update(ProgressInfo info) => view.Update(slot, info);
    }

    /// <summary>A new run starts in slot 0 (1-based index in the plan).</summary>
    public void StartRun(int index, string label) => StartRun(0, index, label);

    /// <summary>Slot 0's run ended after <paramref name="duration"/> (counted for the plan ETA when it trained).</summary>
    public void EndRun(TimeSpan? duration) => EndRun(0, duration);

    /// <summary>Records slot 0's progress; prints when due.</summary>
    public void Update(ProgressInfo p) => Update(0, p);

    private void StartRun(int slot, int index, string label)
    {
        lock (_gate)
        {
            _slots[slot] = new Slot { Index = index, Label = label };
            _started = Math.Max(_started, index);
        }
    }

    private void EndRun(int slot, TimeSpan? duration)
    {
        lock (_gate)
        {
            if (duration is { } d) _finished.Add(d);
            if (!_slots.Remove(slot, out var ended) || !interactive || _drawn == 0) return;
            // The run's last status line stays on the screen; the other jobs' lines are drawn below it.
            Clear();
            if (ended.Line is { } line) output.WriteLine(line);
            Draw();
        }
    }

    /// <summary>Prints a message on its own line without breaking the status lines.</summary>
    public void Message(string text) => WriteLine(output, text);

    /// <summary>Prints a line to <paramref name="writer"/> (stderr: a job's log lines) without breaking the status lines.</summary>
    public void WriteLine(TextWriter writer, string text)
    {
        lock (_gate)
        {
            bool redraw = interactive && _drawn > 0;
            if (redraw) { Clear(); output.Flush(); }
            writer.WriteLine(text);
            if (redraw) { writer.Flush(); Draw(); }
        }
    }

    private void Update(int slot, ProgressInfo p)
    {
        lock (_gate)
        {
            if (!_slots.TryGetValue(slot, out var s)) return;
            var now = _plan.Elapsed;
            bool last = p.Step == p.TotalSteps;
            s.Line = Format(s, p);
            if (interactive)
            {
                if (!last && _lastDrawn is { } drawn && now - drawn < TimeSpan.FromMilliseconds(250)) return;
                _lastDrawn = now;
                Clear();
                Draw();
            }
            else
            {
                if (!last && s.LastPrinted is { } printed && now - printed < RedirectedInterval) return;
                s.LastPrinted = now;
                output.WriteLine(s.Line);
            }
        }
    }

    /// <summary>Erases the status lines (the cursor ends at the start of the first).</summary>
    private void Clear()
    {
        if (_drawn == 1) output.Write('\r' + new string(' ', _lastWidth) + '\r');
        else if (_drawn > 1) output.Write($"\r\u001b[{_drawn - 1}A\u001b[J");
        _drawn = 0;
    }

    /// <summary>Draws one status line per job with one, cut to the terminal's width; the cursor stays on the last.</summary>
    private void Draw()
    {
        var lines = _slots.Values.Where(s => s.Line is not null).Select(s => s.Line!).ToList();
        if (lines.Count == 0) return;
        int width = TerminalWidth();
        lines = lines.Select(l => l.Length > width ? l[..width] : l).ToList();
        output.Write(string.Join('\n', lines));
        _drawn = lines.Count;
        _lastWidth = lines[^1].Length;
    }

    private string Format(Slot s, ProgressInfo p)
    {
        var runEta = p.Eta is { } e ? Fmt(e) : "?";
        var planEta = PlanEta(p) is { } pe ? Fmt(pe) : "?";
        var steps = p.TotalSteps > 0 ? $"{p.Step}/{p.TotalSteps}" : p.Step.ToString(CultureInfo.InvariantCulture);
        var phase = p.Phase == RunPhase.Train ? "" : p.Phase + " ";
        return string.Create(CultureInfo.InvariantCulture,
            $"[{s.Index}/{totalRuns} {s.Label}] {phase}{Bar(p.Step, p.TotalSteps)} ep {p.Epoch} step {steps} loss {p.Loss:0.0000} " +
            $"lr {p.LearningRate:0.00e+0} {p.SamplesPerSecond:0}/s ETA {runEta} | plan {Fmt(_plan.Elapsed)} ETA {planEta}");
    }

    /// <summary>"[██████··········]  37%": <paramref name="step"/> of <paramref name="total"/> in 16 cells; empty when the total is unknown.</summary>
    public static string Bar(long step, long total)
    {
        if (total <= 0) return "";
        double done = Math.Clamp((double)step / total, 0, 1);
        int cells = (int)Math.Round(done * BarCells);
        return $"[{new string('█', cells)}{new string('·', BarCells - cells)}] {Math.Floor(done * 100),3:0}%";
    }

    private const int BarCells = 16;

    /// <summary>
    /// One evaluation as one line in fixed columns: label, phase, epoch and step, then each metric as its name and a
    /// right-aligned value of fixed width (4 decimals; large values without, tiny ones in exponent form), so consecutive rows line up.
    /// </summary>
    public static string EvaluationLine(string label, EpochRow row)
    {
        var phase = row.Phase == RunPhase.Train ? "" : row.Phase;
        var head = string.Create(CultureInfo.InvariantCulture, $"  {label,-24} {phase,-8} ep {row.Epoch,3} step {row.Step,7}");
        var columns = row.Metrics.Select(kv => string.Create(CultureInfo.InvariantCulture, $"{kv.Key} {Value(kv.Value),10}"));
        return head + "  " + string.Join("  ", columns);
    }

    private static string Value(double v) => Math.Abs(v) switch
    {
        >= 1e5 => v.ToString("0", CultureInfo.InvariantCulture),
        < 1e-3 and > 0 => v.ToString("0.000e+0", CultureInfo.InvariantCulture),   // a learning rate near its end
        _ => v.ToString("0.0000", CultureInfo.InvariantCulture),
    };

    private static int TerminalWidth()
    {
        try { return Console.WindowWidth > 20 ? Console.WindowWidth - 1 : 119; }
        catch (IOException) { return 119; }
    }

    /// <summary>This run's ETA plus the runs not yet started, at the mean duration of the finished ones, shared among the jobs.</summary>
    private TimeSpan? PlanEta(ProgressInfo p)
    {
        if (p.Eta is not { } eta) return null;
        var current = p.Elapsed + eta;
        var perRun = _finished.Count > 0 ? TimeSpan.FromTicks((long)_finished.Average(d => d.Ticks)) : current;
        return eta + perRun * Math.Max(0, totalRuns - _started) / Math.Max(1, jobs);
    }

    /// <summary>h:mm:ss.</summary>
    public static string Fmt(TimeSpan t) => $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}";
}
