using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Host.Running;
using Crate.Tests.Data;
using Microsoft.Extensions.Logging;

namespace Crate.Tests.Host;

/// <summary>The terminal at a glance: a bar on the status line, one aligned line per evaluation, info logs in run.log.</summary>
public class ProgressViewTests
{
    [Fact]
    public void The_bar_fills_sixteen_cells_in_proportion_to_the_steps()
    {
        Assert.Equal("[················]   0%", ProgressView.Bar(0, 240));
        Assert.Equal("[████████········]  50%", ProgressView.Bar(120, 240));
        Assert.Equal("[████████████████] 100%", ProgressView.Bar(240, 240));
        Assert.Equal("", ProgressView.Bar(5, 0));                    // total unknown: no bar
    }

    [Fact]
    public void Evaluation_lines_put_every_metric_in_the_same_column()
    {
        var first = new EpochRow(1, 4, new Dictionary<string, double> { ["train_loss"] = 2.292, ["accuracy"] = 20.3125 }, "finetune");
        var second = new EpochRow(12, 1200, new Dictionary<string, double> { ["train_loss"] = 3.7608e-5, ["accuracy"] = 100 }, "finetune");
        string a = ProgressView.EvaluationLine("sample/crate seed 0", first);
        string b = ProgressView.EvaluationLine("sample/crate seed 0", second);
        Assert.Equal("  sample/crate seed 0      finetune ep   1 step       4  train_loss     2.2920  accuracy    20.3125", a);
        Assert.Equal("  sample/crate seed 0      finetune ep  12 step    1200  train_loss   3.761e-5  accuracy   100.0000", b);
    }

    [Fact]
    public void Redirected_output_prints_one_status_line_with_the_bar_and_one_line_per_evaluation()
    {
        var output = new StringWriter();
        var view = new ProgressView(output, totalRuns: 2, interactive: false);
        view.StartRun(1, "vit/crate seed 0");
        view.Update(new ProgressInfo(60, 240, 1, 0.5, 1e-3, 100, TimeSpan.FromSeconds(30), TimeSpan.FromSeconds(90)));
        view.Message(ProgressView.EvaluationLine("vit/crate seed 0", new EpochRow(1, 120, new Dictionary<string, double> { ["top1"] = 81.25 })));
        var lines = output.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(2, lines.Length);
        Assert.StartsWith("[1/2 vit/crate seed 0] [████············]  25% ep 1 step 60/240 loss 0.5000 lr 1.00e-3 100/s ETA 0:01:30", lines[0]);
        Assert.Equal("  vit/crate seed 0                  ep   1 step     120  top1    81.2500", lines[1]);
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Info_goes_to_the_run_log_and_to_the_terminal_only_when_verbose(bool verbose)
    {
        using var dir = new TempDir();
        var terminal = new StringWriter();
        string path = Path.Combine(dir.Path, "run", "run.log");
        using (var log = new RunLog(path, new ConsoleLogger(terminal), verbose))
        {
            log.LogInformation("epoch {Epoch}: top1 {Top1}", 1, 81.25);
            log.LogWarning("validation loss is not below the unigram entropy");
        }
        var file = File.ReadAllLines(path);
        Assert.Equal(2, file.Length);
        Assert.EndsWith(" info: epoch 1: top1 81.25", file[0]);
        Assert.EndsWith(" warn: validation loss is not below the unigram entropy", file[1]);
        var shown = terminal.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(verbose ? ["information: epoch 1: top1 81.25", "warning: validation loss is not below the unigram entropy"]
                             : ["warning: validation loss is not below the unigram entropy"], shown.Select(l => l.TrimEnd('\r')));
    }
}
