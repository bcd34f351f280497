using Crate.Core.Contract;
using Crate.Results;
using Microsoft.Extensions.Logging;
using TorchSharp;
using SummaryWriter = TorchSharp.Modules.SummaryWriter;

namespace Crate.Host.Running;

/// <summary>
/// A run's TensorBoard event files, written while it trains with TorchSharp's <c>torch.utils.tensorboard.SummaryWriter</c>,
/// in the run's own folder (so <c>tensorboard --logdir &lt;out&gt;</c> shows one TensorBoard run per run folder). Tags:
/// <list type="bullet">
/// <item><c>&lt;phase&gt;/step/loss</c>, <c>&lt;phase&gt;/step/lr</c>: every optimizer step's loss and learning rate;</item>
/// <item><c>&lt;phase&gt;/&lt;metric&gt;</c>: every value of every evaluation row, at the row's step (the rows of the results database);</item>
/// <item><c>whitebox/&lt;split&gt;/&lt;measure&gt;</c>: the white-box measure's mean per layer, with the layer as the step;</item>
/// <item><c>final/&lt;metric&gt;</c>: the run's final metrics, and its PNG artifacts (attention maps, reconstructions) as images
/// tagged by their path in the run folder, at the last step trained.</item>
/// </list>
/// Steps count the optimizer steps of each phase (<see cref="EpochRow.Step"/>), so pretrain and finetune have their own axes.
/// Every attempt of a run (a resume) writes a new file, and a tag only takes steps after the last one already in the
/// folder: the steps a resumed run trains again after its checkpoint (bit-identical, resume is exact) are not written
/// twice, and TensorBoard, which would draw both copies, sees each step once. A record cut short by a killed process is
/// cut off the earlier file first. A write that fails for any reason but a full disk turns the log off for the run with a
/// warning (training goes on); a full disk stops the run as any other write does.
/// </summary>
public sealed class TensorBoardLog
{
    /// <summary>The environment variable that turns the event files off: <c>0</c>, <c>false</c> or <c>off</c> (same as <c>reproduce --no-tensorboard</c>).</summary>
    public const string EnvironmentVariable = "CRATE_TENSORBOARD";

    private readonly object _gate = new();
    private readonly Dictionary<string, long> _last;
    private readonly ILogger _logger;
    private SummaryWriter? _writer;
    private bool _off;
    private long _step;

    private TensorBoardLog(string directory, Dictionary<string, long> last, ILogger logger)
    {
        Directory = directory;
        _last = last;
        _logger = logger;
    }

    /// <summary>The folder the event files are in (the run folder).</summary>
    public string Directory { get; }

    /// <summary>Whether the environment leaves the event files on (<see cref="EnvironmentVariable"/> unset or not off).</summary>
    public static bool EnabledByEnvironment() =>
        Environment.GetEnvironmentVariable(EnvironmentVariable)?.Trim().ToLowerInvariant() is not ("0" or "false" or "off" or "no");

    /// <summary>
    /// The log of the run in <paramref name="directory"/>: reads the event files earlier attempts left there (cutting a torn
    /// last record off) to learn each tag's last step. Its own file is created at the first write.
    /// </summary>
    public static TensorBoardLog Open(string directory, ILogger logger)
    {
        var last = new Dictionary<string, long>(StringComparer.Ordinal);
        try { ReadEarlierAttempts(directory, last, logger); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException && !DiskFullException.IsCause(e))
        {
            // Without the earlier files' steps a resumed run would write points twice: no events for this attempt.
            logger.LogWarning(e, "TensorBoard events in {Folder} turned off for this run: reading the earlier attempts' files failed ({Cause})",
                directory, e.Message);
            return new TensorBoardLog(directory, last, logger) { _off = true };
        }
        return new TensorBoardLog(directory, last, logger);
    }

    private static void ReadEarlierAttempts(string directory, Dictionary<string, long> last, ILogger logger)
    {
        foreach (var path in TensorBoardEvents.Files(directory))
        {
            var file = TensorBoardEvents.Read(path);
            if (file.Problem is not null)
            {
                logger.LogWarning("TensorBoard file {File}: {Problem}; cutting it to its {Valid} bytes of whole records (a process killed while writing)",
                    path, file.Problem, file.ValidLength);
                using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
                stream.SetLength(file.ValidLength);
            }
            foreach (var e in file.Events)
                foreach (var v in e.Values)
                    last[v.Tag] = Math.Max(last.GetValueOrDefault(v.Tag, long.MinValue), e.Step);
        }
    }

    /// <summary>The step's loss and learning rate.</summary>
    public void Progress(ProgressInfo info)
    {
        _step = info.Step;
        Scalar($"{info.Phase}/step/loss", info.Loss, info.Step);
        Scalar($"{info.Phase}/step/lr", info.LearningRate, info.Step);
    }

    /// <summary>Every metric of an evaluation row at its step.</summary>
    public void Epoch(EpochRow row)
    {
        _step = row.Step;
        foreach (var (name, value) in row.Metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            Scalar($"{row.Phase}/{name}", value, row.Step);
    }

    /// <summary>Each white-box measure's mean, one point per layer (the layer is the step).</summary>
    public void WhiteBox(IReadOnlyList<WhiteBoxRow> rows)
    {
        foreach (var row in rows.OrderBy(r => r.Split, StringComparer.Ordinal).ThenBy(r => r.Measure, StringComparer.Ordinal).ThenBy(r => r.Layer))
            Scalar($"whitebox/{row.Split}/{row.Measure}", row.Mean, row.Layer);
    }

    /// <summary>The final metrics and the PNG artifacts (paths relative to <paramref name="runDirectory"/>) at the last step trained.</summary>
    public void Final(IReadOnlyDictionary<string, double> metrics, IReadOnlyList<Artifact> artifacts, string runDirectory)
    {
        foreach (var (name, value) in metrics.OrderBy(m => m.Key, StringComparer.Ordinal))
            Scalar($"final/{name}", value, _step);
        foreach (var artifact in artifacts.Where(a => a.RelativePath.EndsWith(".png", StringComparison.OrdinalIgnoreCase)))
        {
            var path = Path.Combine(runDirectory, artifact.RelativePath);
            if (File.Exists(path))
                Write(ImageTag(artifact.RelativePath), _step, (w, tag, step) => w.add_img(tag, path, step));
        }
    }

    /// <summary>The image tag of an artifact: its path in the run folder with '/' separators, without the extension (<c>attention/test-00000</c>).</summary>
    public static string ImageTag(string relativePath) =>
        Path.ChangeExtension(relativePath, null).Replace('\\', '/');

    /// <summary>One scalar (stored as float32, as TensorBoard's <c>simple_value</c> is).</summary>
    public void Scalar(string tag, double value, long step) =>
        Write(tag, step, (w, t, s) => w.add_scalar(t, (float)value, s));

    private void Write(string tag, long step, Action<SummaryWriter, string, int> write)
    {
        lock (_gate)
        {
            if (_off || (_last.TryGetValue(tag, out var last) && step <= last)) return;
            try
            {
                _writer ??= torch.utils.tensorboard.SummaryWriter(Directory);
                write(_writer, tag, checked((int)step));
                _last[tag] = step;
            }
            catch (Exception e) when (!DiskFullException.IsCause(e))
            {
                _off = true;
                _logger.LogWarning(e, "TensorBoard events in {Folder} turned off for this run: writing {Tag} at step {Step} failed ({Cause})",
                    Directory, tag, step, e.Message);
            }
        }
    }
}
