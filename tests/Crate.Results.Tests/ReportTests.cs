using Crate.Core.Contract;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

public class ReportTests
{
    /// <summary>
    /// Two tasks: vit with two finished CRATE seeds, one finished and one failed baseline seed; mae with a CRATE
    /// model only, an undescribed metric and a run still going.
    /// </summary>
    internal static List<RunRecord> Runs()
    {
        var failed = Run("vit", "vit", ModelRole.Baseline, 2, RunStatus.Failed, new Dictionary<string, double>());
        failed.FinishedUtc = Created.AddSeconds(30);
        var mae = Run("mae", "crate-mae", ModelRole.Crate, 1, RunStatus.Finished,
            new Dictionary<string, double> { ["val_loss"] = 0.123456789, ["recon|mse"] = 0.05 }, preset: "smoke");
        mae.MetricInfo = [MetricInfoRecord.From(new MetricInfo("val_loss", "masked reconstruction loss", false, "nats"))];
        mae.PaperValues = [];
        mae.Dataset = null;
        mae.Artifacts = [];
        var running = Run("mae", "crate-mae", ModelRole.Crate, 2, RunStatus.Running, new Dictionary<string, double>(), preset: "smoke");
        running.Code.Dirty = true;
        running.TrainSeconds = 3725;
        return
        [
            Run("vit", "crate", ModelRole.Crate, 1, RunStatus.Finished, new() { ["val_acc"] = 81.25, ["val_loss"] = 0.52 }),
            Run("vit", "crate", ModelRole.Crate, 2, RunStatus.Finished, new() { ["val_acc"] = 82.75, ["val_loss"] = 0.48 }),
            Run("vit", "vit", ModelRole.Baseline, 1, RunStatus.Finished, new() { ["val_acc"] = 80.5, ["val_loss"] = 0.55 }),
            failed, mae, running,
        ];
    }

    [Fact]
    public void Summary_aggregates_finished_seeds_per_side_with_sample_std_and_paper_values()
    {
        var summary = Report.Summarise(Runs());

        var acc = summary.Single(r => r is { Task: "vit", Metric: "val_acc" });
        Assert.Equal(("crate", "vit", "%", true), (acc.CrateModel, acc.BaselineModel, acc.Unit, acc.HigherIsBetter));
        Assert.Equal(82.0, acc.Crate!.Mean, 12);
        Assert.Equal(Math.Sqrt(2 * 0.75 * 0.75), acc.Crate.Std!.Value, 12);
        Assert.Equal(2, acc.Crate.N);
        Assert.Equal(new Aggregate(80.5, null, 1), acc.Baseline);
        Assert.Equal(1.5, acc.Difference!.Value, 12);
        Assert.Equal((66.7, 72.2), (acc.PaperCrate, acc.PaperBaseline));
        Assert.Equal("paper: CRATE-T, ImageNet-1K / ViT-T, ImageNet-1K; ours: Fashion-MNIST small", acc.Note);

        var mae = summary.Where(r => r.Task == "mae").ToList();
        Assert.Equal(["val_loss", "recon|mse"], mae.Select(r => r.Metric));
        Assert.All(mae, r => Assert.Equal(("", null, null), (r.BaselineModel, r.Baseline, r.Difference)));
        Assert.Equal(1, mae[0].Crate!.N);
        Assert.Null(mae[1].HigherIsBetter);
        Assert.Equal("", mae[0].Note);
    }

    [Fact]
    public void Per_run_rows_cover_every_status_in_a_stable_order()
    {
        var rows = Report.PerRun(Runs());
        Assert.Equal(["mae/crate-mae/1", "mae/crate-mae/2", "vit/crate/1", "vit/crate/2", "vit/vit/1", "vit/vit/2"],
            rows.Select(r => $"{r.Task}/{r.Model}/{r.Seed}"));
        Assert.Equal("0123456789-dirty", rows[1].Code);
        Assert.Equal(["val_acc", "val_loss"], rows[2].Metrics.Select(m => m.Name));
        Assert.Equal(RunStatus.Failed, rows[5].Status);
    }

    [Fact]
    public void Run_keys_are_stable_and_canonical()
    {
        const string config = """{"train.lr": 0.001, "model.depth": 12, "model": {"b": true, "a": "x"}}""";
        var key = RunKeys.Compute("vit", "crate", config, 1);

        Assert.Matches("^[0-9a-f]{16}$", key);
        Assert.Equal("""{"model":{"a":"x","b":true},"model.depth":12,"train.lr":0.001}""", RunKeys.CanonicalJson(config));
        Assert.Equal(key, RunKeys.Compute("vit", "crate", """{"model":{"a":"x","b":true},"model.depth":12.0,"train.lr":1e-3}""", 1));
        Assert.NotEqual(key, RunKeys.Compute("vit", "crate", config, 2));
        Assert.NotEqual(key, RunKeys.Compute("vit", "vit", config, 1));
        Assert.NotEqual(key, RunKeys.Compute("mae", "crate", config, 1));
        Assert.NotEqual(key, RunKeys.Compute("vit", "crate", config.Replace("12", "6"), 1));
        Assert.Throws<ResultsStoreException>(() => RunKeys.Compute("vit", "crate", "{not json", 1));
    }

    [Fact]
    public void Run_key_input_is_pinned()
    {
        // SHA-256 of "crate-run/v1\nvit\ncrate\n7\n{\"a\":1}", first 16 hex digits (also checked with sha256sum).
        Assert.Equal("1e9eb92be256f373", RunKeys.Compute("vit", "crate", """{ "a" : 1.0 }""", 7));
    }

    [Fact]
    public void Golden_markdown_report()
    {
        var runs = Runs();
        var artifacts = Report.Artifacts(runs).Append(new ReportArtifact("vit", "val_acc curves", "/runs/report/plots/vit small val_acc.png", "")).ToList();
        var text = new StringWriter { NewLine = "\n" };
        ReportWriter.WriteMarkdown(text, Report.Summarise(runs), Report.PerRun(runs), artifacts, "/runs/report",
            Report.WhiteBox(runs, WhiteBoxOf));
        Golden.AssertMatches("report.md", text.ToString());
    }

    /// <summary>Two layers of R^c and non-zero fraction for the CRATE seeds of <see cref="Runs"/>, seed-dependent.</summary>
    internal static IReadOnlyList<WhiteBoxRow> WhiteBoxOf(string runKey)
    {
        var run = Runs().Single(r => r.Id == runKey);
        if (run.Role != ModelRole.Crate || run.Status != RunStatus.Finished)
            return [];
        return
        [
            new WhiteBoxRow(1, "Rc", "test", 230.0 + run.Seed, 4.0, 256), new WhiteBoxRow(2, "Rc", "test", 220.0 + 2 * run.Seed, 5.0, 256),
            new WhiteBoxRow(1, "nonzero", "test", 0.5 - 0.01 * run.Seed, 0.02, 256), new WhiteBoxRow(2, "nonzero", "test", 0.4, 0.03, 256),
        ];
    }

    [Fact]
    public void White_box_summary_aggregates_each_layer_over_finished_crate_seeds()
    {
        var rows = Report.WhiteBox(Runs(), WhiteBoxOf);
        var rc1 = rows.Single(r => r is { Task: "vit", Measure: "Rc", Layer: 1 });
        Assert.Equal(("small", "crate", "test", 2), (rc1.Preset, rc1.Model, rc1.Split, rc1.Value.N));
        Assert.Equal(231.5, rc1.Value.Mean, 10);
        Assert.Equal(Math.Sqrt(0.5), rc1.Value.Std!.Value, 10);
        var nz2 = rows.Single(r => r is { Task: "vit", Measure: "nonzero", Layer: 2 });
        Assert.Equal((0.4, 0.0), (nz2.Value.Mean, nz2.Value.Std!.Value));
        Assert.Equal(["crate", "crate-mae"], rows.Select(r => r.Model).Distinct().Order());   // baselines and unfinished runs have none
    }

    [Fact]
    public void Seeds_of_different_configs_are_flagged_as_pooled()
    {
        var runs = Runs();
        runs.Single(r => r is { Model: "crate", Seed: 2 }).ConfigJson = """{"model.depth":3}""";
        var acc = Report.Summarise(runs).Single(r => r is { Task: "vit", Metric: "val_acc" });
        Assert.Contains("pooled: 2 configs of crate", acc.Note);
        Assert.DoesNotContain("pooled", Report.Summarise(Runs()).Single(r => r is { Task: "vit", Metric: "val_acc" }).Note);
    }

    [Theory]
    [InlineData(685164.0, "", "685,164")]
    [InlineData(22800000.0, "", "22,800,000")]
    [InlineData(12345.678, "tokens/s", "12,346")]
    [InlineData(808.0393, "img/s", "808.0393")]
    [InlineData(1234.5, "s", "1234.5000")]
    [InlineData(88.0, "%", "88.00")]
    public void Numbers_are_formatted_for_reading(double value, string unit, string expected) =>
        Assert.Equal(expected, ReportWriter.Number(value, unit));

    [Fact]
    public void Golden_summary_csv()
    {
        var text = new StringWriter { NewLine = "\n" };
        ReportWriter.WriteCsv(text, Report.Summarise(Runs()));
        Golden.AssertMatches("summary.csv", text.ToString());
    }

    [Fact]
    public void Summary_csv_reads_back_with_the_same_values()
    {
        var summary = Report.Summarise(Runs());
        var text = new StringWriter { NewLine = "\n" };
        ReportWriter.WriteCsv(text, summary);

        using var reader = CsvHelper.CsvReader.Create(new StringReader(text.ToString()), null, leaveOpen: false);
        var back = reader.GetRecords<SummaryCsvRow>().ToList();
        Assert.Equal(summary.Count, back.Count);
        var acc = back.Single(r => r.Metric == "val_acc");
        var expected = summary.Single(r => r.Metric == "val_acc");
        Assert.Equal((expected.Crate!.Mean, expected.Crate.Std, expected.Note, true), (acc.CrateMean, acc.CrateStd, acc.Note, acc.HigherIsBetter));
        Assert.Null(back.Single(r => r.Metric == "recon|mse").HigherIsBetter);
    }

    [Fact]
    public void Golden_runs_csv()
    {
        var text = new StringWriter { NewLine = "\n" };
        ReportWriter.WriteCsv(text, Report.PerRun(Runs()));
        Golden.AssertMatches("runs.csv", text.ToString());
    }

    [Fact]
    public void Golden_json()
    {
        var runs = Runs();
        var text = new StringWriter { NewLine = "\n" };
        ReportWriter.WriteJson(text, Report.Summarise(runs), Report.PerRun(runs));
        Golden.AssertMatches("report.json", text.ToString());
    }
}
