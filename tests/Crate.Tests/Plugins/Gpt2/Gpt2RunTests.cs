using Crate.Core.Contract;
using Crate.Core.WhiteBox;
using Crate.Plugins.Gpt2;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crate.Tests.Plugins.Gpt2;

/// <summary>In-process smoke runs of both models, the white-box rows of CRATE-GPT and sampling from the run's checkpoints.</summary>
public sealed class Gpt2RunTests(Gpt2SmokeFixture fixture) : IClassFixture<Gpt2SmokeFixture>
{
    [Theory]
    [InlineData(Gpt2Models.Crate)]
    [InlineData(Gpt2Models.Gpt2)]
    public void Smoke_run_reports_finite_validation_loss_and_the_task_metrics(string model)
    {
        var (ctx, result) = model == Gpt2Models.Crate ? fixture.Crate : fixture.Gpt2;
        // Every declared metric, a falling loss and val_loss below ln(vocab): the contract test (Contract/PluginContractTests.cs).
        double loss = result.Metrics["val_loss"];
        Assert.Equal(Math.Exp(loss), result.Metrics["perplexity"], 6);
        // Untrained on 50,304 outputs: about ln(50,304) = 10.83 nats; four steps cannot go far below it.
        Assert.InRange(loss, 8.0, 11.5);
        Assert.Equal(6.7673, result.Metrics["unigram_entropy"], 4);   // data/README.md
        Assert.Equal(2, ctx.Epochs.Count);                              // train.eval_every=2 of 4 steps
        Assert.All(ctx.Epochs, row => Assert.True(row.Metrics.ContainsKey("val_loss")));
        Assert.True(Directory.Exists(Path.Combine(ctx.CheckpointDirectory, "best")));
    }

    [Fact]
    public void Token_cache_is_shared_by_the_runs_of_a_results_folder()
    {
        string cache = Gpt2Data.CacheRoot(fixture.Crate.Context);
        Assert.Equal(Path.Combine(fixture.Out, "cache", "text"), cache);
        Assert.Equal(cache, Gpt2Data.CacheRoot(fixture.Gpt2.Context));
        var corpus = Assert.Single(Directory.GetDirectories(cache));
        Assert.StartsWith("moby-dick-gpt2-", Path.GetFileName(corpus));
        Assert.Equal(285_991 * 2, new FileInfo(Path.Combine(corpus, "train.bin")).Length);
    }

    [Fact]
    public void Crate_run_reports_white_box_rows_for_every_layer()
    {
        var (ctx, result) = fixture.Crate;
        Assert.NotEmpty(result.WhiteBox);
        Assert.Equal(result.WhiteBox, ctx.WhiteBox);
        foreach (int layer in new[] { 1, 2 })
            foreach (var measure in new[] { WhiteBoxMeasures.Rc, WhiteBoxMeasures.Nonzero })
            {
                var row = Assert.Single(result.WhiteBox, r => r.Layer == layer && r.Measure == measure);
                Assert.Equal("val", row.Split);
                Assert.Equal(4, row.Samples);                          // eval.whitebox_sequences=4
            }
        Assert.Empty(fixture.Gpt2.Result.WhiteBox);
    }

    [Fact]
    public void Sampling_from_a_run_gives_the_prompt_and_a_deterministic_continuation()
    {
        var (ctx, _) = fixture.Crate;
        CheckpointRequest Request() => new(Gpt2Models.Crate, ctx.CheckpointDirectory, ctx.Config, new HashSet<string>(),
            _ => throw new InvalidOperationException("sampling reads no dataset"), "cpu", NullLogger.Instance, CancellationToken.None);
        var options = new SamplingOptions("Call me Ishmael.", Tokens: 8, Temperature: 0.8, TopK: 50, Seed: 3);
        string first = fixture.Task.Sample(Request(), options);
        string again = fixture.Task.Sample(Request(), options);
        Assert.StartsWith("Call me Ishmael.", first);
        Assert.True(first.Length > options.Prompt.Length);
        Assert.Equal(first, again);
    }

    [Fact]
    public void Sampler_loads_the_newest_checkpoint_of_a_run_or_the_named_best_and_generates_exactly_n_real_ids()
    {
        var (ctx, _) = fixture.Crate;
        string module = Gpt2Checkpoints.TrainerModuleFile(ctx.CheckpointDirectory);
        Assert.Equal(Path.Combine(Crate.Core.Training.CheckpointStore.FindLatest(ctx.CheckpointDirectory)!, "module-0.bin"), module);
        string best = Path.Combine(ctx.CheckpointDirectory, "best");
        Assert.Equal(Path.Combine(best, "module-0.bin"), Gpt2Checkpoints.TrainerModuleFile(best));
        var (model, shape) = Gpt2Checkpoints.Load(Gpt2Models.Crate, ctx.CheckpointDirectory, ctx.Config, new HashSet<string>(), NullLogger.Instance);
        using (model)
        {
            int[] context = [14350, 502, 1148];
            // More new tokens than the context of 32: generation crops the window to block_size.
            int[] a = Gpt2Sampler.Generate(model, shape.BlockSize, context, 40, temperature: 1.5, topK: null, seed: 7, TorchSharp.torch.CPU);
            int[] b = Gpt2Sampler.Generate(model, shape.BlockSize, context, 40, temperature: 1.5, topK: null, seed: 7, TorchSharp.torch.CPU);
            int[] c = Gpt2Sampler.Generate(model, shape.BlockSize, context, 40, temperature: 1.5, topK: null, seed: 8, TorchSharp.torch.CPU);
            Assert.Equal(40, a.Length);
            Assert.Equal(a, b);
            Assert.NotEqual(a, c);
            Assert.All(a, id => Assert.InRange(id, 0, Crate.Core.Data.Text.Gpt2Tokenizer.VocabularySize - 1));
            int[] greedy = Gpt2Sampler.Generate(model, shape.BlockSize, context, 5, temperature: 1, topK: 1, seed: 1, TorchSharp.torch.CPU);
            Assert.Equal(greedy, Gpt2Sampler.Generate(model, shape.BlockSize, context, 5, temperature: 1, topK: 1, seed: 2, TorchSharp.torch.CPU));
        }
    }

    [Fact]
    public void Sampler_refuses_a_folder_without_a_checkpoint()
    {
        var empty = Directory.CreateTempSubdirectory("crate-gpt2-empty").FullName;
        try
        {
            var e = Assert.Throws<Gpt2CheckpointException>(() => Gpt2Checkpoints.TrainerModuleFile(empty));
            Assert.Contains(empty, e.Message);
        }
        finally { Directory.Delete(empty, recursive: true); }
    }
}
