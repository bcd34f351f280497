using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Plugins.Gpt2;
using Crate.Tests.Data;
using Crate.Tests.Modules;
using Microsoft.Extensions.Logging.Abstractions;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Gpt2;

/// <summary>The two architectures as the task builds them, and loading PyTorch state_dicts for sampling.</summary>
public sealed class Gpt2ModelTests
{
    private static readonly GptConfig Tiny = new(BlockSize: 16, NLayer: 2, NHead: 2, NEmbd: 16);

    [Fact]
    public void Crate_gpt_has_no_final_norm_and_its_head_is_the_token_embedding()
    {
        manual_seed(0);
        using var model = (CrateGptModel)Gpt2Models.Build(Gpt2Models.Crate, Tiny);
        var keys = model.state_dict().Keys.ToList();
        Assert.Null(model.Transformer.ln_f);
        Assert.DoesNotContain(keys, k => k.Contains("ln_f", StringComparison.Ordinal));
        Assert.DoesNotContain(keys, k => k.StartsWith("lm_head", StringComparison.Ordinal));
        Assert.Contains("transformer.wte.weight", keys);
        Assert.Equal(50304, model.Transformer.wte.weight!.shape[0]);

        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        var idx = randint(0, 50257, [2, 10], dtype: ScalarType.Int64);     // [B, T]
        var z = model.Embed(idx);                                              // [B, T, d]
        foreach (var block in model.Layers) z = block.forward(z);
        var expected = matmul(z, model.Transformer.wte.weight!.t());           // blocks output straight into wteᵀ: [B, T, V]
        TensorAssert.Close(expected, model.forward(idx), 1e-5, "CRATE-GPT logits");
    }

    [Fact]
    public void Gpt2_has_a_final_norm_and_the_same_tied_head()
    {
        using var model = (Gpt2Model)Gpt2Models.Build(Gpt2Models.Gpt2, Tiny);
        Assert.NotNull(model.Transformer.ln_f);
        Assert.Contains("transformer.ln_f.weight", model.state_dict().Keys);
        Assert.DoesNotContain(model.state_dict().Keys, k => k.StartsWith("lm_head", StringComparison.Ordinal));
    }

    [Fact]
    public void Causal_models_do_not_look_ahead()
    {
        foreach (var name in new[] { Gpt2Models.Crate, Gpt2Models.Gpt2 })
        {
            manual_seed(1);
            using var model = Gpt2Models.Build(name, Tiny);
            model.eval();
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            var a = tensor(new long[] { 1, 2, 3, 4, 5, 6 }, [1, 6]);
            var b = tensor(new long[] { 1, 2, 3, 40, 50, 60 }, [1, 6]);
            TensorAssert.Close(model.forward(a).narrow(1, 0, 3), model.forward(b).narrow(1, 0, 3), 1e-5, name);
        }
    }

    [Fact]
    public void A_safetensors_state_dict_loads_with_its_shape_read_from_the_file()
    {
        using var dir = new TempDir();
        string path = dir.File("crate.safetensors");
        manual_seed(2);
        using (var saved = Gpt2Models.Build(Gpt2Models.Crate, Tiny))
            Checkpoint.Save(saved, path);
        var task = new Gpt2Task();
        // The config says width 32, 4 layers, context 64; the file says 16, 2, 16 and wins (heads from the config).
        var config = task.Schema.Resolve().With(("model.n_embd", "32"), ("model.n_layer", "4"), ("model.block_size", "64"), ("model.n_head", "2"));
        var (model, shape) = Gpt2Checkpoints.Load(Gpt2Models.Crate, path, config, new HashSet<string>(), NullLogger.Instance);
        using (model)
        {
            Assert.Equal((16, 2, 16, 2), (shape.NEmbd, shape.NLayer, shape.BlockSize, shape.NHead));
            int[] ids = Gpt2Sampler.Generate(model, shape.BlockSize, [464], 20, 1.0, topK: 10, seed: 0, CPU);
            Assert.Equal(20, ids.Length);
        }
        // A width the user insisted on is kept, and the strict load reports the disagreement.
        var insisted = new HashSet<string> { "model.n_embd" };
        Assert.Throws<CheckpointMismatchException>(() => Gpt2Checkpoints.Load(Gpt2Models.Crate, path, config, insisted, NullLogger.Instance));
        // The GPT-2 architecture does not fit a CRATE-GPT file.
        Assert.Throws<CheckpointMismatchException>(() => Gpt2Checkpoints.Load(Gpt2Models.Gpt2, path, config, new HashSet<string>(), NullLogger.Instance));
    }

    [Fact]
    public void NanoGpt_names_are_mapped_to_the_model()
    {
        using var scope = NewDisposeScope();
        var file = new Dictionary<string, Tensor>
        {
            ["_orig_mod.transformer.wte.weight"] = zeros(8, 4),
            ["_orig_mod.lm_head.weight"] = zeros(8, 4),
            ["_orig_mod.transformer.h.0.attn.bias"] = ones(1, 1, 4, 4),
            ["_orig_mod.transformer.h.0.attn.c_attn.bias"] = zeros(12),
            ["_orig_mod.transformer.h.0.attn.masked_bias"] = zeros(1),
        };
        var mapped = Gpt2Checkpoints.NanoGptStateDict(file);
        Assert.Equal(["transformer.h.0.attn.c_attn.bias", "transformer.wte.weight"], mapped.Keys.Order(StringComparer.Ordinal));
    }
}
