using Crate.Core.Contract;
using Crate.Host.Running;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>The report's figures: one training curve per metric and phase, one white-box figure per split family.</summary>
public class ReportPlotsTests
{
    [Theory]
    [InlineData("test", "")]
    [InlineData("train", "")]
    [InlineData("test@init", "")]
    [InlineData("test-decoder", "decoder")]
    [InlineData("val-decoder", "decoder")]
    [InlineData("-x", "")]
    [InlineData("test-", "")]
    public void A_split_s_family_is_what_follows_its_last_dash(string split, string family) =>
        Assert.Equal(family, ReportPlots.SplitFamily(split));

    [Fact]
    public void Encoder_and_decoder_layers_get_a_figure_each()
    {
        var outDir = HostProcess.TempDir("report-plots");
        using var store = ResultsStore.Open(outDir);
        var run = new RunRecord
        {
            Id = "0123456789abcdef", Task = "mae", Model = "crate-mae", Role = ModelRole.Crate, Preset = "smoke", Seed = 0,
            Status = RunStatus.Finished, RunDirectory = outDir,
            MetricInfo = [MetricInfoRecord.From(new MetricInfo("recon_loss", "masked reconstruction MSE", false))],
        };
        store.UpsertRun(run);
        store.AddEpoch(run.Id, new EpochRow(1, 4, new Dictionary<string, double> { ["recon_loss"] = 1.2, ["lr"] = 1e-3 }, "pretrain"));
        store.AddEpoch(run.Id, new EpochRow(2, 8, new Dictionary<string, double> { ["recon_loss"] = 1.1, ["lr"] = 1e-4 }, "pretrain"));
        store.SetWhiteBox(run.Id, [
            new WhiteBoxRow(1, "Rc", "test", 40, 1, 8), new WhiteBoxRow(2, "Rc", "test", 38, 1, 8),
            new WhiteBoxRow(1, "Rc", "test-decoder", 20, 1, 8), new WhiteBoxRow(2, "Rc", "test-decoder", 19, 1, 8),
        ]);

        var figures = ReportPlots.Write(store, store.Runs(), Path.Combine(outDir, "plots"));

        Assert.Equal([("mae-smoke-curve-pretrain-recon_loss.png", FigureKind.Curve), ("mae-smoke-whitebox.png", FigureKind.WhiteBox),
                      ("mae-smoke-whitebox-decoder.png", FigureKind.WhiteBox)],
            figures.Select(f => (Path.GetFileName(f.Path), f.Kind)));
        Assert.All(figures, f => Assert.True(new FileInfo(f.Path).Length > 1000, f.Path));
        Assert.Contains("decoder", figures[2].Title);
        Assert.All(figures, f => Assert.Equal(("mae", "smoke"), (f.Task, f.Preset)));
    }
}
