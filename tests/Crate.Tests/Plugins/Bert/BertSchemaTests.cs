using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Plugins.Bert;

namespace Crate.Tests.Plugins.Bert;

/// <summary>The task's declarations: schema, presets, datasets and named configs.</summary>
public sealed class BertSchemaTests
{
    private readonly BertTask _task = new();

    [Fact]
    public void Every_preset_resolves_for_both_models_and_builds_both_recipes()
    {
        Assert.Equal(["smoke", "small", "medium", "paper"], _task.Presets.Select(p => p.Name));
        Assert.Equal([BertModels.Crate, BertModels.Bert], _task.Models.Select(m => m.Name));
        Assert.Equal([ModelRole.Crate, ModelRole.Baseline], _task.Models.Select(m => m.Role));
        foreach (var preset in _task.Presets)
            foreach (var model in _task.Models)
            {
                var config = _task.Schema.Resolve(preset.ValuesFor(model.Name));
                TrainerOptions.FromConfig(config).Validate();
                var finetune = TrainerOptions.FromConfig(config, BertKeys.Finetune);
                (finetune with { ParameterScales = ParameterScale.LayerDecay(2, finetune.LayerDecay, _ => 1) }).Validate();
                var shape = BertKeys.ModelConfig(config, model.Name, 30522, 0);
                shape.Validate();
                Assert.Equal(config.GetInt(BertKeys.MaxLen), shape.MaxLength(robertaPositions: model.Name == BertModels.Crate));
            }
        Assert.All(_task.Presets, p => Assert.Empty(p.PerModel));   // one recipe for both models
    }

    [Fact]
    public void Paper_preset_is_berts_recipe_at_bert_base_shape()
    {
        var c = _task.Schema.Resolve(BertPresets.Paper.ValuesFor(BertModels.Crate));
        var o = TrainerOptions.FromConfig(c);
        Assert.Equal((12L, 12L, 768L, 512L), (c.Get(BertKeys.Layers), c.Get(BertKeys.Heads), c.Get(BertKeys.Hidden), c.Get(BertKeys.MaxLen)));
        Assert.Equal(256, o.BatchSize);
        Assert.Equal(32, o.Accumulation);
        Assert.Equal(1_000_000L, o.MaxSteps);
        Assert.Equal((1e-4, 10_000L, 0.01), (o.LearningRate, o.WarmupSteps, o.WeightDecay));
        Assert.Equal(BertKeys.Text, c.Get(BertKeys.Dataset));
        Assert.Equal([BertKeys.Vocab, BertKeys.Text, BertKeys.Sotu], _task.RequiredDatasets(c));
        Assert.Contains("NOT a published CRATE-BERT", BertPresets.Paper.Description);
    }

    [Fact]
    public void Required_datasets_follow_the_corpus_and_the_downstream_task()
    {
        var c = _task.Schema.Resolve(BertPresets.Small.ValuesFor(BertModels.Bert), [KeyValuePair.Create("downstream.task", "sst2")]);
        Assert.Equal([BertKeys.SotuVocab, BertKeys.Sotu, BertKeys.Glue], _task.RequiredDatasets(c));
        var small = _task.Schema.Resolve(BertPresets.Small.ValuesFor(BertModels.Bert));
        Assert.Equal([BertKeys.SotuVocab, BertKeys.Sotu], _task.RequiredDatasets(small));
    }

    [Fact]
    public void Heads_that_do_not_divide_the_width_name_the_key()
    {
        var c = _task.Schema.Resolve(BertPresets.Smoke.ValuesFor(BertModels.Crate), [KeyValuePair.Create("model.num_heads", "3")]);
        var e = Assert.Throws<ConfigException>(() => BertKeys.ModelConfig(c, BertModels.Crate, 30522, 0));
        Assert.Contains("model.num_heads", e.Message);
    }

    [Fact]
    public void Named_configs_carry_the_counted_parameters()
    {
        var named = _task.NamedConfigs.ToDictionary(n => n.Name);
        // BertForMaskedLM at bert-base-uncased, counted by hand: embeddings 23,837,184 + 12 x 7,087,872 + MLM head 622,650.
        Assert.Equal(109_514_298L, named["BERT-base"].Parameters);
        // CRATE-BERT-base (port defaults): embeddings 39,001,344 + 12 x (3 x 768² + 4 x 768) + head 642,393.
        Assert.Equal(60_914_265L, named["CRATE-BERT-base"].Parameters);
        Assert.True(named["CRATE-BERT-small"].Parameters < named["BERT-small"].Parameters);
    }

    [Theory]
    [InlineData(BertModels.Bert)]
    [InlineData(BertModels.Crate)]
    public void The_count_formula_equals_the_built_small_model(string model)
    {
        var c = _task.Schema.Resolve(BertPresets.Small.ValuesFor(model));
        var shape = BertKeys.ModelConfig(c, model, 30522, 0);
        using var built = (TorchSharp.torch.nn.Module)BertModels.Build(model, shape);
        Assert.Equal(BertModels.ParameterCount(model, shape), ModuleInit.CountParameters(built));
    }
}
