using Crate.Core.Contract;
using Crate.Core.Modules;
using static TorchSharp.torch;

namespace Crate.Plugins.Gpt2;

/// <summary>The task's two models, built from one <see cref="GptConfig"/> so that only the architecture differs.</summary>
public static class Gpt2Models
{
    /// <summary>CRATE-GPT (docs/paper.md §3f).</summary>
    public const string Crate = "crate";

    /// <summary>nanoGPT's GPT-2.</summary>
    public const string Gpt2 = "gpt2";

    /// <summary>The models, CRATE first.</summary>
    public static IReadOnlyList<ModelInfo> All { get; } =
    [
        new(Crate, ModelRole.Crate, "CRATE-GPT: causal MSSA (one shared bias-free projection, future keys masked to -inf) and ISTA blocks, no ln_f, lm_head tied to wte"),
        new(Gpt2, ModelRole.Baseline, "GPT-2 as nanoGPT: causal self-attention and GELU MLP blocks, final LayerNorm ln_f, lm_head tied to wte"),
    ];

    /// <summary>Builds <paramref name="model"/> (<see cref="Crate"/> or <see cref="Gpt2"/>) with its reference initialisation.</summary>
    public static nn.Module<Tensor, Tensor> Build(string model, GptConfig config) => model switch
    {
        Crate => new CrateGptModel(config),
        Gpt2 => new Gpt2Model(config),
        _ => throw new ConfigException($"unknown model '{model}' for task gpt2; models: {Crate}, {Gpt2}"),
    };

    /// <summary>Parameter count of <paramref name="model"/> at <paramref name="config"/> (tied head counted once, wpe included), without building it.</summary>
    public static long ParameterCount(string model, GptConfig config) =>
        model == Crate ? config.CrateGptParameterCount() : config.Gpt2ParameterCount();

    /// <summary>The count without the position embedding (nanoGPT's <c>get_num_params(non_embedding=True)</c>, §3f's 59.9M convention).</summary>
    public static long NonEmbeddingParameterCount(string model, GptConfig config) =>
        ParameterCount(model, config) - (long)config.BlockSize * config.NEmbd;
}
