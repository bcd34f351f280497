using Crate.Core.Contract;
using Crate.Results;

namespace Crate.Results.Tests;

/// <summary>The control comparisons (treated − control paired by seed), their interval, and the paper's claims with their verdicts.</summary>
public class ControlReportTests
{
    private static RunRecord Run(string model, ModelRole role, int seed, double treated, double control, double scratch)
    {
        var run = StoreFixtures.Run("mae", model, role, seed, RunStatus.Finished,
            new Dictionary<string, double> { ["linear_top1"] = treated, ["init_linear_top1"] = control, ["finetune_loss"] = scratch - 0.1, ["scratch_finetune_loss"] = scratch });
        run.MetricInfo =
        [
            MetricInfoRecord.From(new MetricInfo("linear_top1", "linear probe", true, "%")),
            MetricInfoRecord.From(new MetricInfo("init_linear_top1", "at init", true, "%", new MetricControl("linear_top1", ControlKind.Initialisation))),
            MetricInfoRecord.From(new MetricInfo("finetune_loss", "fine-tuned loss", false, "nats")),
            MetricInfoRecord.From(new MetricInfo("scratch_finetune_loss", "from scratch", false, "nats", new MetricControl("finetune_loss", ControlKind.FromScratch))),
        ];
        run.Claims = [PaperClaimRecord.From(new PaperClaim("linear_top1", 3.0, "CRATE within 3 points", "§3c"))];
        return run;
    }

    [Fact]
    public void Paired_interval_is_the_t_interval_of_the_per_seed_differences()
    {
        // Differences 4, 5, 6: mean 5, s = 1, t(0.975, 2) = 4.30265: 5 ± 2.48414.
        var ci = PairedInterval.Of([4.0, 5.0, 6.0])!;
        Assert.Equal(5 - 4.30265273 / Math.Sqrt(3), ci.Low, 6);
        Assert.Equal(5 + 4.30265273 / Math.Sqrt(3), ci.High, 6);
        Assert.Equal(2, ci.DegreesOfFreedom);
        Assert.True(ci.ExcludesZero);
        Assert.False(PairedInterval.Of([-1.0, 1.0, 0.5])!.ExcludesZero);
        Assert.Null(PairedInterval.Of([3.0]));
    }

    [Fact]
    public void Controls_pair_each_seeds_treated_and_control_values_per_model()
    {
        var runs = new[]
        {
            Run("crate-mae", ModelRole.Crate, 0, 70, 66, 0.9), Run("crate-mae", ModelRole.Crate, 1, 71, 66, 0.8), Run("crate-mae", ModelRole.Crate, 2, 72, 66.5, 0.85),
            Run("mae", ModelRole.Baseline, 0, 76, 70, 0.7), Run("mae", ModelRole.Baseline, 1, 77, 71, 0.7),
            StoreFixtures.Run("mae", "mae", ModelRole.Baseline, 3, RunStatus.Failed),
        };
        var rows = Report.Controls(runs);
        Assert.Equal(["crate-mae/linear_top1", "crate-mae/finetune_loss", "mae/linear_top1", "mae/finetune_loss"], rows.Select(r => $"{r.Model}/{r.Metric}"));

        var crate = rows[0];
        Assert.Equal(("init_linear_top1", "Initialisation", "%", true), (crate.ControlMetric, crate.Kind, crate.Unit, crate.HigherIsBetter));
        Assert.Equal(71.0, crate.Treated.Mean, 12);
        Assert.Equal(66.1666666667, crate.Control.Mean, 9);
        Assert.Equal(3, crate.Delta.N);
        Assert.Equal(PairedInterval.Of([4.0, 5.0, 5.5]), crate.Interval);                   // per seed: 70−66, 71−66, 72−66.5

        var loss = rows[1];
        Assert.Equal(("FromScratch", false), (loss.Kind, loss.HigherIsBetter));
        Assert.Equal(-0.1, loss.Delta.Mean, 12);                                           // fine-tuned − scratch, lower is better
        Assert.Equal(2, rows[2].Delta.N);                                                   // the failed run is not counted

        // The Markdown report has one table per control kind, and leaves control metrics out of the CRATE-vs-baseline table.
        var summary = Report.Summarise(runs);
        Assert.Contains(summary, r => r.Metric == "init_linear_top1" && r.IsControl);
        var text = new StringWriter();
        ReportWriter.WriteMarkdown(text, summary, controls: rows, claims: Report.Claims(runs, summary));
        var markdown = text.ToString();
        Assert.Contains("### Controls, preset `small`: what pre-training added: pre-trained − the same encoder at its initialisation", markdown);
        Assert.Contains("| linear_top1 (↑) | 71.00 | 66.17 | +4.83 [", markdown);
        Assert.Contains("### Controls, preset `small`: what pre-training added to fine-tuning", markdown);
        Assert.DoesNotContain("| init_linear_top1 (%, ↑) |", markdown);
        Assert.Contains("crate-mae: pre-training is ahead of the same encoder at its initialisation beyond seed noise on 1 of 1 metrics", markdown);
    }

    [Theory]
    [InlineData(new[] { 74.8, 75.0, 75.2 }, new[] { 76.8, 77.0, 77.2 }, ClaimVerdict.Reproduced)]       // Δ −2 ± 0.45: above −3
    [InlineData(new[] { 70.0, 70.5, 71.0 }, new[] { 76.0, 76.5, 77.0 }, ClaimVerdict.NotReproduced)]    // Δ −6: below −3 throughout
    [InlineData(new[] { 70.0, 73.0, 76.0 }, new[] { 76.0, 76.5, 77.0 }, ClaimVerdict.Inconclusive)]     // straddles −3
    [InlineData(new[] { 74.0 }, new[] { 76.0, 77.0 }, ClaimVerdict.OneSeed)]
    public void A_claim_is_reproduced_when_the_whole_interval_holds_it(double[] crate, double[] baseline, ClaimVerdict verdict)
    {
        var runs = crate.Select((v, i) => Run("crate-mae", ModelRole.Crate, i, v, 60, 1))
            .Concat(baseline.Select((v, i) => Run("mae", ModelRole.Baseline, i, v, 60, 1))).ToList();
        var claims = Report.Claims(runs, Report.Summarise(runs));
        var claim = Assert.Single(claims);
        Assert.Equal(("linear_top1", 3.0, verdict), (claim.Metric, claim.Margin, claim.Verdict));
        Assert.Equal(crate.Average() - baseline.Average(), claim.Difference, 9);
    }

    [Fact]
    public void A_lower_is_better_claim_holds_below_the_margin()
    {
        var runs = new List<RunRecord>();
        foreach (var (model, role, values) in new[] { ("crate-mae", ModelRole.Crate, new[] { 0.50, 0.51, 0.52 }), ("mae", ModelRole.Baseline, new[] { 0.40, 0.41, 0.42 }) })
            for (int seed = 0; seed < 3; seed++)
            {
                var run = Run(model, role, seed, 70, 60, 1);
                run.Metrics["finetune_loss"] = values[seed];
                run.Claims = [PaperClaimRecord.From(new PaperClaim("finetune_loss", 0.2, "within 0.2 nats", "§x"))];
                runs.Add(run);
            }
        Assert.Equal(ClaimVerdict.Reproduced, Assert.Single(Report.Claims(runs, Report.Summarise(runs))).Verdict);   // Δ = +0.10 ≤ 0.2
        foreach (var run in runs) run.Claims = [PaperClaimRecord.From(new PaperClaim("finetune_loss", 0.05, "within 0.05 nats", "§x"))];
        Assert.Equal(ClaimVerdict.NotReproduced, Assert.Single(Report.Claims(runs, Report.Summarise(runs))).Verdict);
    }
}
