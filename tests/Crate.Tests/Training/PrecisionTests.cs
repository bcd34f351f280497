using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Results;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Training;

/// <summary><c>train.precision</c>: the key, its run-key rule, the trainer applying it, and fp32 optimizer state.</summary>
public class PrecisionTests
{
    private static readonly ConfigKey<long> Depth = Key.Int("model.depth", 12, "layers", 1, 48);

    private static KeyValuePair<string, string>[] Set(params (string Key, string Value)[] pairs) =>
        pairs.Select(p => KeyValuePair.Create(p.Key, p.Value)).ToArray();

    [Fact]
    public void FromConfigReadsThePrecisionOfEachPhase()
    {
        var finetune = TrainerKeys.For("finetune");
        var schema = new ConfigSchema([Depth, .. TrainerKeys.All, .. finetune.All]);
        var config = schema.Resolve(Set(("finetune.precision", "bf16")));
        Assert.Equal(Precision.Fp32, TrainerOptions.FromConfig(config).Precision);
        Assert.Equal(Precision.Bf16, TrainerOptions.FromConfig(config, finetune).Precision);
        Assert.Equal(Precision.Bf16, TrainerOptions.FromConfig(schema.Resolve(Set(("train.precision", "bf16")))).Precision);
    }

    [Theory]
    [InlineData("fp16")]
    [InlineData("BF16")]
    [InlineData("")]
    public void AnUnknownPrecisionIsAConfigErrorNamingTheKey(string value)
    {
        var schema = new ConfigSchema([Depth, .. TrainerKeys.All]);
        var e = Assert.Throws<ConfigException>(() => schema.Resolve(Set(("train.precision", value))));
        Assert.Contains("train.precision", e.Message);
        Assert.Contains("fp32, bf16", e.Message);
    }

    [Fact]
    public void Fp32RunsKeepTheirRunKeysAndBf16RunsGetNewOnes()
    {
        // The schema of a task before the key existed, and after.
        var before = new ConfigSchema([Depth, .. TrainerKeys.All.Where(k => k != TrainerKeys.Train.Precision)]);
        var after = new ConfigSchema([Depth, .. TrainerKeys.All]);
        var overrides = Set(("model.depth", "4"), ("train.lr", "0.0005"));
        string Key(ResolvedConfig c) => RunKeys.Compute("vit", "crate", c.ToJson(), 0);

        var old = before.Resolve(overrides);
        var fp32 = after.Resolve(overrides);
        var explicitFp32 = after.Resolve(overrides, Set(("train.precision", "fp32")));
        var bf16 = after.Resolve(overrides, Set(("train.precision", "bf16")));

        Assert.Equal(old.ToJson(), fp32.ToJson());                 // config.json and run key unchanged
        Assert.Equal(Key(old), Key(fp32));
        Assert.Equal(Key(old), Key(explicitFp32));
        Assert.NotEqual(Key(old), Key(bf16));
        Assert.Contains("\"train.precision\":\"bf16\"", bf16.ToJson());
        Assert.DoesNotContain("precision", fp32.ToJson());
        // config.json reads back with the key restored.
        Assert.Equal("fp32", ResolvedConfig.FromJson(after, fp32.ToJson()).Get(TrainerKeys.Train.Precision));
        Assert.Equal("bf16", ResolvedConfig.FromJson(after, bf16.ToJson()).Get(TrainerKeys.Train.Precision));
    }

    [Fact]
    public void TheTrainerRunsTrainingAndEvaluationInBf16WithFloat32Weights()
    {
        using var ctx = new LocalRunContext(seed: 3);
        torch.manual_seed(3);
        var model = new CrateClassifier(new CrateConfig(16, 1, 2, 4, 2, 1, 3));
        var data = new SyntheticClassification(32, 8, TrainingSeeds.From(3), dims: 16);
        Tensor Images(Tensor x) => x.view(-1, 1, 4, 4);                                      // [B, 16] → [B, 1, 4, 4]
        var computeTypes = new List<ScalarType?>();
        var spec = TrainingSpec.ForModel(model, data, (b, _) => Losses.CrossEntropy(model.forward(Images(b.X)), b.Y), e =>
        {
            computeTypes.AddRange(model.modules().OfType<IMixedPrecision>().Select(m => m.ComputeType));
            var all = data.All(e.Device);
            return new Dictionary<string, double> { ["val_loss"] = Losses.CrossEntropy(model.forward(Images(all.X)), all.Y).ToDouble() };
        });
        var options = new TrainerOptions { LearningRate = 0.01, BatchSize = 8, Epochs = 2, Precision = Precision.Bf16 };
        var result = new Trainer<TinyBatch>(spec, options, ctx).Run();

        Assert.Equal(8, result.Steps);
        Assert.True(double.IsFinite(result.FinalMetrics["val_loss"]) && double.IsFinite(result.FinalMetrics["train_loss"]));
        Assert.NotEmpty(computeTypes);
        Assert.All(computeTypes, t => Assert.Equal(ScalarType.BFloat16, t));
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.dtype));
    }

    [Fact]
    public void Bf16OnAModelWithoutPrecisionAwareBlocksIsAnError()
    {
        using var ctx = new LocalRunContext();
        var model = TinyTask.Model(1);
        var spec = TinyTask.Spec(model, new SyntheticClassification(16, 8, TrainingSeeds.From(1)));
        var options = new TrainerOptions { BatchSize = 8, Precision = Precision.Bf16 };
        var e = Assert.Throws<TrainerConfigException>(() => new Trainer<TinyBatch>(spec, options, ctx).Run());
        Assert.Contains("precision-aware", e.Message);
    }

    [Fact]
    public void OptimizerStateStaysFloat32AfterABf16Step()
    {
        using var scope = NewDisposeScope();
        torch.manual_seed(2);
        var model = new CrateClassifier(new CrateConfig(16, 1, 2, 4, 2, 1, 3));
        MixedPrecision.Apply(model, Precision.Bf16);
        var parameters = ParameterGroups.Collect([model], null, null);
        using var optimizer = new OptimizerSettings(0.9, 0.999, 1e-8, 0.05).Create(OptimizerKind.AdamW, parameters);
        Losses.CrossEntropy(model.forward(randn(4, 1, 4, 4)), tensor(new long[] { 0, 1, 2, 0 })).backward();
        optimizer.Step();
        using var stream = new MemoryStream();
        using (var writer = new BinaryWriter(stream, System.Text.Encoding.UTF8, leaveOpen: true)) optimizer.Save(writer);
        // AdamW keeps exp_avg and exp_avg_sq per parameter: float32 means 2 × 4 bytes per element (plus a small header).
        long elements = model.parameters().Sum(p => p.numel());
        Assert.InRange(stream.Length, 8 * elements, 8 * elements + 64 * model.parameters().Count() + 1024);
        Assert.All(model.parameters(), p => Assert.Equal(ScalarType.Float32, p.grad!.dtype));
    }
}
