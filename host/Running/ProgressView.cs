using System.Diagnostics;
using System.Globalization;
using Crate.Core.Contract;

namespace Crate.Host.Running;

/// <summary>
/// Live progress for the run in flight and the whole plan (a bar, step, loss, samples/s, ETA). On a terminal
/// it rewrites one status line, cut to the terminal's width so it never wraps; when output is redirected it
/// prints a line every <see cref="RedirectedInterval"/>. Each evaluation is one line in aligned columns
/// (<see cref="EvaluationLine"/>), printed above the status line. Thread-safe.
/// </summary>
public sealed class ProgressView(TextWriter output, int totalRuns, bool interactive)
{
    /// <summary>How often a line is printed when output is not a terminal.</summary>
    public static readonly TimeSpan RedirectedInterval = TimeSpan.FromSeconds(15);

    private readonly object _gate = new();
    private readonly Stopwatch _plan = Stopwatch.StartNew();
    private readonly List<TimeSpan> _finished = [];
    private int _runIndex;
    private string _label = "";
    private TimeSpan? _lastPrinted;
    private int _lineWidth;

    /// <summary>A new run starts (1-based index in the plan).</summary>
    public void StartRun(int index, string label)
    {
        lock (_gate) { _runIndex = index; _label = label; _lastPrinted = null; }
    }

    /// <summary>The current run ended after <paramref name="duration"/> (counted for the plan ETA when it trained).</summary>
    public void EndRun(TimeSpan? duration)
    {
        lock (_gate)
        {
            if (duration is { } d) _finished.Add(d);
            if (interactive && _lineWidth > 0) { output.WriteLine(); _lineWidth = 0; }
        }
    }

    /// <summary>Prints a message on its own line without breaking the status line.</summary>
    public void Message(string text)
    {
        lock (_gate)
        {
            if (interactive && _lineWidth > 0) { output.Write('\r' + new string(' ', _lineWidth) + '\r'); _lineWidth = 0; }
            output.WriteLine(text);
        }
    }

    /// <summary>Records progress; prints when due.</summary>
    public void Update(ProgressInfo p)
    {
        lock (_gate)
        {
            var now = _plan.Elapsed;
            var interval = interactive ? TimeSpan.FromMilliseconds(250) : RedirectedInterval;
            bool due = _lastPrinted is not { } last || now - last >= interval;
            if (!due && p.Step != p.TotalSteps) return;
            _lastPrinted = now;
            var line = Format(p);
            if (interactive)
            {
                int width = TerminalWidth();
                if (line.Length > width) line = line[..width];
                output.Write('\r' + line.PadRight(_lineWidth));
                _lineWidth = line.Length;
            }
            else output.WriteLine(line);
        }
    }

    private string Format(ProgressInfo p)
    {
        var runEta = p.Eta is { } e ? Fmt(e) : "?";
        var planEta = PlanEta(p) is { } pe ? Fmt(pe) : "?";
        var steps = p.TotalSteps > 0 ? $"{p.Step}/{p.TotalSteps}" : p.Step.ToString(CultureInfo.InvariantCulture);
        var phase = p.Phase == RunPhase.Train ? "" : p.Phase + " ";
        return string.Create(CultureInfo.InvariantCulture,
            $"[{_runIndex}/{totalRuns} {_label}] {phase}{Bar(p.Step, p.TotalSteps)} ep {p.Epoch} step {steps} loss {p.Loss:0.0000} " +
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

    private TimeSpan? PlanEta(ProgressInfo p)
    {
        if (p.Eta is not { } eta) return null;
        var current = p.Elapsed + eta;
        var perRun = _finished.Count > 0 ? TimeSpan.FromTicks((long)_finished.Average(d => d.Ticks)) : current;
        return eta + perRun * Math.Max(0, totalRuns - _runIndex);
    }

    /// <summary>h:mm:ss.</summary>
    public static string Fmt(TimeSpan t) => $"{(int)t.TotalHours}:{t.Minutes:00}:{t.Seconds:00}";
}
