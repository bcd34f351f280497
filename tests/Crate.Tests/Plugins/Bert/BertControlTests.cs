using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Plugins.Bert;

namespace Crate.Tests.Plugins.Bert;

/// <summary>
/// The controls measure the same thing as what they control, and differ only in the training: with a pre-training
/// learning rate of 1e-30 (the trainer requires one above 0) two steps move no weight by more than 2e-30, far below what
/// float32 activations resolve, so the "pre-trained" encoder is the encoder at its initialisation and every initialisation control
/// must equal its treated metric and the from-scratch fine-tune must equal the fine-tune, exactly (same weights, same
/// head initialisation, same data order, same dropout seeds), and the white-box rows at initialisation must equal
/// the trained ones.
/// </summary>
public sealed class BertControlTests
{
    [Theory]
    [InlineData(BertModels.Crate)]
    [InlineData(BertModels.Bert)]
    public void Without_pre_training_every_control_equals_its_treated_metric(string model)
    {
        var task = new BertTask();
        var config = task.Schema.Resolve(BertPresets.Smoke.ValuesFor(model),
            [KeyValuePair.Create("train.lr", "1e-30"), KeyValuePair.Create("train.min_lr", "0"), KeyValuePair.Create("train.max_steps", "2"), KeyValuePair.Create("train.eval_every", "2")]);
        string dir = Path.Combine(Path.GetTempPath(), "crate-bert-controls-" + Guid.NewGuid().ToString("N"));
        using (var ctx = new LocalRunContext(dir, seed: 3, config) { Task = "bert", Model = model, DataDirectories = BertSmokeFixture.Shipped })
        {
            var result = task.Run(ctx);
            var controls = task.Metrics.Where(m => m.Control is { Kind: ControlKind.Initialisation or ControlKind.FromScratch }).ToList();
            Assert.Equal(8, controls.Count);
            foreach (var control in controls)
                Assert.True(result.Metrics[control.Name] == result.Metrics[control.Control!.Of],
                    $"{control.Name} = {result.Metrics[control.Name]} but {control.Control.Of} = {result.Metrics[control.Control.Of]}");
            if (model == BertModels.Crate)
            {
                var trained = result.WhiteBox.Where(r => r.Split == "val").ToList();
                Assert.NotEmpty(trained);
                Assert.Equal(trained.Select(r => r with { Split = "val@init" }), result.WhiteBox.Where(r => r.Split == "val@init"));
            }
        }
        Directory.Delete(dir, recursive: true);
    }
}
