using System.Text.Json;
using Crate.Core.Contract;
using LiteDB;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

/// <summary>Evaluation rows keyed by (run, phase, step): none overwritten, phases in training order, exported as curves.</summary>
public class PhaseRowTests
{
    private static EpochRow Row(int epoch, long step, double loss, string phase = RunPhase.Train) =>
        new(epoch, step, new Dictionary<string, double> { ["val_loss"] = loss }, phase);

    [Fact]
    public void Several_evaluations_in_one_epoch_are_separate_rows()
    {
        // gpt2's small preset evaluates every 100 steps: epochs 1, 2, 3, 3, 4, 5. The second row of epoch 3 used to
        // replace the first.
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        long[] steps = [100, 200, 300, 400, 500, 600];
        int[] epochs = [1, 2, 3, 3, 4, 5];
        for (int i = 0; i < steps.Length; i++) store.AddEpoch("aaaa", Row(epochs[i], steps[i], 6.0 - i * 0.1));
        store.AddEpoch("aaaa", Row(3, 300, 5.8));                      // a resume rewrites the row of its step

        var rows = store.Epochs("aaaa");
        Assert.Equal(steps, rows.Select(r => r.Step));
        Assert.Equal(epochs, rows.Select(r => r.Epoch));
        Assert.Equal(5.8, rows[2].Metrics["val_loss"]);
        Assert.Equal(5.7, rows[3].Metrics["val_loss"], 12);
    }

    [Fact]
    public void Phases_come_back_in_the_order_they_were_trained()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        store.AddEpoch("aaaa", Row(1, 50, 3.0, "pretrain"));
        store.AddEpoch("aaaa", Row(2, 100, 2.0, "pretrain"));
        Thread.Sleep(5);
        store.AddEpoch("aaaa", Row(1, 10, 1.0, "finetune"));          // step counts restart in each phase
        store.AddEpoch("aaaa", Row(2, 20, 0.5, "finetune"));

        var rows = store.Epochs("aaaa");
        Assert.Equal([("pretrain", 50L), ("pretrain", 100L), ("finetune", 10L), ("finetune", 20L)], rows.Select(r => (r.Phase, r.Step)));
    }

    [Fact]
    public void Rows_of_a_database_written_before_phases_read_as_phase_train()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, ResultsStore.FileName);
        using (var db = new LiteDatabase(new ConnectionString { Filename = path, Connection = ConnectionType.Shared }))
        {
            var epochs = db.GetCollection("epochs");
            epochs.Insert(new BsonDocument
            {
                ["_id"] = "aaaa:000001", ["RunKey"] = "aaaa", ["Epoch"] = 1, ["Step"] = 100L,
                ["Metrics"] = new BsonDocument { ["val_acc"] = 50.0 },
            });
        }
        using var store = ResultsStore.OpenFile(path);
        var row = Assert.Single(store.Epochs("aaaa"));
        Assert.Equal((RunPhase.Train, 1, 100L, 50.0), (row.Phase, row.Epoch, row.Step, row.Metrics["val_acc"]));
    }

    [Fact]
    public void Curves_export_every_row_of_every_run_in_long_format()
    {
        using var folder = new TempFolder();
        using var store = ResultsStore.Open(folder.Path);
        var crate = Run("mae", "crate-mae", ModelRole.Crate, 0, RunStatus.Finished);
        var running = Run("mae", "mae", ModelRole.Baseline, 1, RunStatus.Running);
        store.UpsertRun(crate);
        store.UpsertRun(running);
        store.AddEpoch(crate.Id, new EpochRow(1, 10, new Dictionary<string, double> { ["loss"] = 0.5, ["lr"] = 1e-3 }, "pretrain"));
        Thread.Sleep(5);
        store.AddEpoch(crate.Id, new EpochRow(1, 4, new Dictionary<string, double> { ["top1"] = 80 }, "finetune"));
        store.AddEpoch(running.Id, new EpochRow(1, 10, new Dictionary<string, double> { ["loss"] = 0.7 }, "pretrain"));

        var points = Report.Curves(store.Runs(), store.Epochs);
        var csv = new StringWriter();
        ReportWriter.WriteCsv(csv, points);
        Assert.Equal(
            "run_key,task,preset,model,role,seed,phase,step,epoch,metric,value\n" +
            $"{crate.Id},mae,{crate.Preset},crate-mae,crate,0,pretrain,10,1,loss,0.5\n" +
            $"{crate.Id},mae,{crate.Preset},crate-mae,crate,0,pretrain,10,1,lr,0.001\n" +
            $"{crate.Id},mae,{crate.Preset},crate-mae,crate,0,finetune,4,1,top1,80\n" +
            $"{running.Id},mae,{running.Preset},mae,baseline,1,pretrain,10,1,loss,0.7\n",
            csv.ToString());

        var json = new StringWriter();
        ReportWriter.WriteJson(json, points);
        using var doc = JsonDocument.Parse(json.ToString());
        var first = doc.RootElement.GetProperty("curves")[0];
        Assert.Equal(4, doc.RootElement.GetProperty("curves").GetArrayLength());
        Assert.Equal(("pretrain", 10, "loss", 0.5), (first.GetProperty("phase").GetString(), first.GetProperty("step").GetInt32(),
            first.GetProperty("metric").GetString(), first.GetProperty("value").GetDouble()));
    }
}
