using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Tests.Data;
using Microsoft.Extensions.Logging;

namespace Crate.Tests.Training;

public class LocalRunContextTests
{
    private static ProgressInfo Step(long step) => new(step, 10, 1, 0.5, 1e-3, 100, TimeSpan.FromSeconds(step), null);

    [Fact]
    public void A_temporary_run_folder_is_deleted_on_dispose_a_given_one_is_kept()
    {
        string temporary;
        using (var ctx = new LocalRunContext())
        {
            temporary = ctx.RunDirectory;
            Assert.True(Directory.Exists(temporary));
            Assert.Equal(Path.Combine(temporary, "checkpoints"), ctx.CheckpointDirectory);
        }
        Assert.False(Directory.Exists(temporary));

        using var dir = new TempDir();
        string given = Path.Combine(dir.Path, "run");
        using (var ctx = new LocalRunContext(given, seed: 5)) Assert.Equal(5, ctx.Seed);
        Assert.True(Directory.Exists(given));
    }

    [Fact]
    public void Reports_are_recorded_in_order_and_progress_can_be_left_out()
    {
        var seen = new List<long>();
        using var kept = new LocalRunContext { OnProgress = (p, _) => seen.Add(p.Step) };
        using var dropped = new LocalRunContext { KeepProgress = false, OnProgress = (p, _) => seen.Add(-p.Step) };

        kept.ReportProgress(Step(1));
        kept.ReportProgress(Step(2));
        dropped.ReportProgress(Step(3));
        kept.ReportEpoch(new EpochRow(1, 2, new Dictionary<string, double> { ["loss"] = 0.5 }));
        kept.ReportWhiteBox([new WhiteBoxRow(1, "Rc", "test", 2.0, 0.1, 8), new WhiteBoxRow(2, "Rc", "test", 3.0, 0.1, 8)]);

        Assert.Equal([1L, 2L], kept.Progress.Select(p => p.Step));
        Assert.Empty(dropped.Progress);
        Assert.Equal([1L, 2L, -3L], seen);
        Assert.Equal(2, Assert.Single(kept.Epochs).Step);
        Assert.Equal([1, 2], kept.WhiteBox.Select(w => w.Layer));
    }

    [Fact]
    public void Cancel_cancels_the_token_and_datasets_resolve_under_the_run_folder_unless_mapped()
    {
        using var plain = new LocalRunContext();
        using var mapped = new LocalRunContext { DataDirectories = name => "/data/" + name };

        Assert.False(plain.Cancellation.IsCancellationRequested);
        plain.Cancel();
        Assert.True(plain.Cancellation.IsCancellationRequested);
        Assert.Equal(Path.Combine(plain.RunDirectory, "data", "moby-dick"), plain.DataDirectory("moby-dick"));
        Assert.Equal("/data/moby-dick", mapped.DataDirectory("moby-dick"));
    }

    [Fact]
    public void The_console_logger_writes_level_and_message_from_its_minimum_level_up()
    {
        var text = new StringWriter();
        ILogger logger = new ConsoleLogger(text, LogLevel.Information);

        logger.LogDebug("hidden {Value}", 1);
        logger.LogInformation("step {Step} of {Total}", 3, 10);
        logger.LogWarning(new InvalidOperationException("boom"), "failed at {Step}", 4);

        string[] lines = text.ToString().Split(Environment.NewLine, StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("information: step 3 of 10", lines[0]);
        Assert.Equal("warning: failed at 4", lines[1]);
        Assert.Contains("InvalidOperationException: boom", lines[2]);
        Assert.Equal(3, lines.Length);
    }
}
