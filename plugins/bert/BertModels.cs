using Crate.Core.Contract;
using Crate.Core.Modules;

namespace Crate.Plugins.Bert;

/// <summary>The task's two models and their named configurations.</summary>
public static class BertModels
{
    /// <summary>CRATE-BERT (docs/paper.md §3e).</summary>
    public const string Crate = "crate";

    /// <summary>BERT (Hugging Face BertForMaskedLM).</summary>
    public const string Bert = "bert";

    /// <summary>The models, CRATE first.</summary>
    public static IReadOnlyList<ModelInfo> All { get; } =
    [
        new(Crate, ModelRole.Crate, "CRATE-BERT as the Hugging Face port: RoBERTa-style embeddings, CRATE layers (MSSA with key-padding mask, ISTA), MLM head dense-GELU-LN-tied decoder"),
        new(Bert, ModelRole.Baseline, "BERT as Hugging Face BertForMaskedLM: post-norm attention and GELU MLP layers, MLM head dense-GELU-LN-tied decoder"),
    ];

    /// <summary>Builds <paramref name="model"/> with its reference initialisation (seed torch first).</summary>
    public static IMaskedLanguageModel Build(string model, BertModelConfig config) => model switch
    {
        Crate => new CrateBertForMaskedLM(config),
        Bert => new BertForMaskedLM(config),
        _ => throw new ConfigException($"unknown model '{model}' for task bert; models: {Crate}, {Bert}"),
    };

    /// <summary>Parameters of <paramref name="model"/> at <paramref name="config"/> with its MLM head (tied decoder once, no pooler), without building it.</summary>
    public static long ParameterCount(string model, BertModelConfig config) =>
        model == Crate ? config.CrateBertParameterCount() : config.BertParameterCount();
}
