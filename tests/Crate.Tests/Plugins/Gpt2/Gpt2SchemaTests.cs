using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Plugins.Gpt2;

namespace Crate.Tests.Plugins.Gpt2;

/// <summary>The task's declarations: schema, presets, datasets, paper values and named configs.</summary>
public sealed class Gpt2SchemaTests
{
    private readonly Gpt2Task _task = new();

    [Fact]
    public void Every_preset_gives_both_models_one_recipe_and_the_padded_vocabulary()
    {
        // Presets resolving and validating, declarations and the smoke run: Contract/PluginContractTests.cs.
        Assert.Equal([Gpt2Models.Crate, Gpt2Models.Gpt2], _task.Models.Select(m => m.Name));
        foreach (var preset in _task.Presets)
            foreach (var model in _task.Models)
                Assert.Equal(50304, Gpt2Keys.ModelConfig(_task.Schema.Resolve(preset.ValuesFor(model.Name))).VocabSize);
        Assert.All(_task.Presets, p => Assert.Empty(p.PerModel));   // one recipe for both models
    }

    [Fact]
    public void Small_preset_has_a_cpu_context_and_a_few_layers()
    {
        var c = _task.Schema.Resolve(Gpt2Presets.Small.ValuesFor(Gpt2Models.Crate));
        Assert.InRange(c.Get(Gpt2Keys.BlockSize), 128, 256);
        Assert.InRange(c.Get(Gpt2Keys.NLayer), 2, 6);
        Assert.Equal(Gpt2Keys.MobyDick, c.Get(Gpt2Keys.Dataset));
        Assert.True(c.Get(TrainerKeys.MaxSteps) > 0);
    }

    [Fact]
    public void Paper_preset_is_the_reported_recipe()
    {
        var c = _task.Schema.Resolve(Gpt2Presets.Paper.ValuesFor(Gpt2Models.Crate));
        var o = TrainerOptions.FromConfig(c);
        Assert.Equal((12L, 12L, 768L, 1024L), (c.Get(Gpt2Keys.NLayer), c.Get(Gpt2Keys.NHead), c.Get(Gpt2Keys.NEmbd), c.Get(Gpt2Keys.BlockSize)));
        Assert.Equal(384, o.BatchSize);
        Assert.True(o.Accumulation > 1);
        Assert.Equal(600_000L, o.MaxSteps);
        Assert.Equal((6e-4, 6e-5, 2000L), (o.LearningRate, o.MinLearningRate, o.WarmupSteps));
        Assert.Equal((0.9, 0.95, 0.1, 1.0), (o.Beta1, o.EffectiveBeta2, o.WeightDecay, o.GradClip));
        Assert.Equal(OptimizerKind.AdamW, o.Optimizer);
        Assert.Equal(Gpt2Keys.Tokens, c.Get(Gpt2Keys.Dataset));
        Assert.Equal([Gpt2Keys.Tokens], _task.RequiredDatasets(c));
    }

    [Fact]
    public void Required_datasets_follow_the_configured_corpus()
    {
        var d = _task.Schema.Resolve();
        Assert.Equal([Gpt2Keys.MobyDick], _task.RequiredDatasets(d));
        Assert.Equal([Gpt2Keys.Text], _task.RequiredDatasets(d.With(("data.dataset", "text"))));
        Assert.Empty(_task.RequiredDatasets(d.With(("data.dataset", "text"), ("data.path", "/some/book.txt"))));
        var moby = Assert.Single(_task.Datasets, n => n.Name == Gpt2Keys.MobyDick);
        Assert.Equal("moby-dick", moby.ShippedDefault);
        Assert.All(_task.Datasets.Where(n => n.ShippedDefault is null), n => Assert.False(string.IsNullOrEmpty(n.HowToGet)));
        Assert.True(Directory.Exists(Path.Combine(Data.DataTestFiles.RepoRoot(), "data", moby.ShippedDefault!)));
    }

    [Fact]
    public void Paper_values_are_openwebtext_losses_marked_with_their_configuration()
    {
        var crate = Assert.Single(_task.PaperValues, p => p.Model == Gpt2Models.Crate && p.Metric == "val_loss");
        var gpt2 = Assert.Single(_task.PaperValues, p => p.Model == Gpt2Models.Gpt2 && p.Metric == "val_loss");
        Assert.Equal(3.37, crate.Value);
        Assert.Equal(2.85, gpt2.Value);
        Assert.All(_task.PaperValues, p => Assert.Contains("OpenWebText, 12 layers, d=768, 600k steps", p.Config));
    }

    [Fact]
    public void Named_configs_count_the_base_models_as_the_paper_and_match_built_small_models()
    {
        var named = _task.NamedConfigs;
        var crateBase = Assert.Single(named, n => n.Name == "CRATE-GPT-base");
        var gptBase = Assert.Single(named, n => n.Name == "GPT-2-base");
        // §3f: 59.9M for CRATE-GPT base without wpe; GPT-2 base is the 124M model.
        Assert.Equal(59.9, Math.Round(Gpt2Models.NonEmbeddingParameterCount(Gpt2Models.Crate, ModelZoo.GptBase) / 1e6, 1));
        Assert.Equal(60.7, Math.Round(crateBase.Parameters / 1e6, 1));
        Assert.Equal(124, Math.Round(gptBase.Parameters / 1e6));
        foreach (var (name, model) in new[] { ("CRATE-GPT-small", Gpt2Models.Crate), ("GPT-2-small", Gpt2Models.Gpt2) })
        {
            var entry = Assert.Single(named, n => n.Name == name);
            var shape = Gpt2Keys.ModelConfig(_task.Schema.Resolve(Gpt2Presets.Small.ValuesFor(model)));
            using var built = Gpt2Models.Build(model, shape);
            Assert.Equal(entry.Parameters, built.parameters().Sum(p => p.numel()));
        }
    }

    [Fact]
    public void Heads_that_do_not_divide_the_width_name_the_key()
    {
        var c = _task.Schema.Resolve().With(("model.n_head", "5"));
        var e = Assert.Throws<ConfigException>(() => Gpt2Keys.ModelConfig(c));
        Assert.Contains("model.n_head", e.Message);
        Assert.Contains("model.n_embd", e.Message);
        Assert.Throws<ConfigException>(() => _task.Schema.Resolve().With(("model.vocab_size", "50000")));
    }
}
