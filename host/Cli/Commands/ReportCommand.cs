using System.CommandLine;
using System.Globalization;
using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Interop;
using Crate.Core.Training;
using Crate.Host.Planning;
using Crate.Host.Plugins;
using Crate.Host.Running;
using Crate.Results;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Crate.Host.Cli;

/// <summary>report: CRATE against baseline per task and metric, or every evaluation row (--curves).</summary>
public sealed partial class CliApp
{
    private Command ReportCommand()
    {
        var format = new Option<string>("--format")
        {
            Description = "md | csv | json | html (one self-contained page: tables, figures, images, every run's details; written to <out>/report.html unless --file)",
            DefaultValueFactory = _ => "md",
        };
        format.AcceptOnlyFromAmong("md", "csv", "json", "html");
        var file = new Option<string>("--file") { Description = "Write to this file instead of stdout" };
        var runs = new Option<bool>("--runs") { Description = "One row per run instead of the CRATE-vs-baseline summary" };
        var task = new Option<string>("--task") { Description = "Only this task" };
        var noPlots = new Option<bool>("--no-plots") { Description = "Markdown or HTML without drawing the PNG figures (training curves, white-box per layer) into <out>/plots/" };
        var curves = new Option<bool>("--curves") { Description = "Every evaluation row of every run (run key, task, model, seed, phase, step, epoch, metric, value); with --format csv or json" };
        var cmd = new Command("report", "CRATE against baseline per task and metric: mean ± std over seeds, difference, paper values") { format, file, runs, task, noPlots, curves };
        cmd.SetAction(r =>
        {
            var outDir = Path.GetFullPath(r.GetValue(_out)!);
            if (!File.Exists(Path.Combine(outDir, "results.db")))
                throw new UsageException($"no results database in {outDir}; run 'reproduce' first or pass --out DIR");
            if (r.GetValue(curves) && r.GetValue(format) is "md" or "html")
                throw new UsageException("report --curves exports rows for other tools: add --format csv or --format json");
            if (r.GetValue(runs) && r.GetValue(format) == "html")
                throw new UsageException("report --format html always has every run (its Runs section); leave out --runs");
            if (r.GetValue(curves) && r.GetValue(runs))
                throw new UsageException("report: --curves and --runs are two different exports; pick one");
            using var store = ResultsStore.Open(outDir);
            var records = store.Runs(r.GetValue(task));
            var path = r.GetValue(file) is { } f ? Path.GetFullPath(f)
                : r.GetValue(format) == "html" ? Path.Combine(outDir, "report.html") : null;
            using var writer = path is null ? null : new StreamWriter(path);
            var target = writer ?? stdout;
            if (r.GetValue(curves))
            {
                var points = Report.Curves(records, store.Epochs);
                if (r.GetValue(format) == "csv") ReportWriter.WriteCsv(target, points);
                else ReportWriter.WriteJson(target, points);
                if (path is not null) stdout.WriteLine($"Wrote {path}");
                return ExitCodes.Ok;
            }
            if (r.GetValue(format) == "html")
            {
                var figures = r.GetValue(noPlots) ? [] : ReportPlots.Write(store, records, Path.Combine(outDir, "plots"));
                HtmlReportWriter.Write(target, ReportModel.Build(records, store.WhiteBox, figures, store.DatabasePath));
                stdout.WriteLine($"Wrote {path}");
                return ExitCodes.Ok;
            }
            var baseDir = path is null ? Directory.GetCurrentDirectory() : Path.GetDirectoryName(path)!;
            var plots = r.GetValue(format) == "md" && r.GetValue(noPlots) is false
                ? ReportPlots.Write(store, records, Path.Combine(outDir, "plots")).Select(f => f.ToArtifact()).ToList() : [];
            var whiteBox = r.GetValue(format) == "md" ? Report.WhiteBox(records, store.WhiteBox) : [];
            WriteReport(target, r.GetValue(format)!, records, r.GetValue(runs), baseDir, plots, whiteBox);
            if (path is not null) stdout.WriteLine($"Wrote {path}");
            return ExitCodes.Ok;
        });
        return cmd;
    }

    private static void WriteReport(TextWriter target, string format, IReadOnlyList<RunRecord> records, bool perRun, string baseDir,
        IReadOnlyList<ReportArtifact> plots, IReadOnlyList<WhiteBoxSummaryRow> whiteBox)
    {
        var summary = Report.Summarise(records);
        var runs = Report.PerRun(records);
        switch (format)
        {
            case "csv" when perRun: ReportWriter.WriteCsv(target, runs); break;
            case "csv": ReportWriter.WriteCsv(target, summary); break;
            case "json": ReportWriter.WriteJson(target, perRun ? [] : summary, perRun ? runs : null, perRun ? null : Report.Controls(records)); break;
            default: ReportWriter.WriteMarkdown(target, summary, perRun ? runs : null, [.. plots, .. Report.Artifacts(records)], baseDir, whiteBox,
                Report.Controls(records), Report.Claims(records, summary)); break;
        }
    }
}
