using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// CRATE-BERT for masked language modelling, as the Hugging Face CRATE port builds it (docs/paper.md §3e):
/// RoBERTa-style embeddings (<c>crate.embeddings.*</c>, positions from pad + 1), CRATE layers
/// (<c>crate.encoder.layer.{i}.*</c>, <see cref="CrateBertLayer"/>: MSSA with the key-padding mask, then ISTA, no
/// residual) with no final norm, and RoBERTa's head <c>lm_head.{dense, layer_norm, bias}</c> with the decoder tied
/// to the word embedding. The prefixes <c>crate</c> and <c>lm_head</c> follow the RoBERTa template the port was made
/// from (UNCERTAIN: the port's files were not read, §3e). Init: Linear and Embedding N(0, 0.02), biases 0, padding
/// rows 0, LayerNorm 1 and 0, D kaiming-uniform.
/// </summary>
public sealed class CrateBertForMaskedLM : nn.Module<Tensor, Tensor>, IMaskedLanguageModel
{
    /// <summary>The base model (<c>crate.*</c>).</summary>
    public readonly BertBody<CrateBertLayer> crate;

    /// <summary>The MLM head (<c>lm_head.*</c>).</summary>
    public readonly RobertaMlmHead lm_head;

    /// <summary>Builds the model with the port's initialisation.</summary>
    public CrateBertForMaskedLM(BertModelConfig config) : base(nameof(CrateBertForMaskedLM))
    {
        config.Validate();
        if (config.MaxLength(robertaPositions: true) < 1)
            throw new ArgumentException($"CRATE-BERT needs more than pad + 1 = {config.PadTokenId + 1} position rows, got {config.MaxPositions}.");
        Config = config;
        crate = new BertBody<CrateBertLayer>(new BertEmbeddings(config, robertaPositions: true),
            Enumerable.Range(0, config.NumLayers).Select(_ => new CrateBertLayer(config.Layer)));
        lm_head = new RobertaMlmHead(config);
        RegisterComponents();
        ModuleInit.NormalLinears(this, 0.02);
        crate.embeddings.InitHuggingFace();
    }

    /// <inheritdoc />
    public BertModelConfig Config { get; }

    /// <inheritdoc />
    public string BaseModelPrefix => "crate";

    /// <inheritdoc />
    public BertEmbeddings Embeddings => crate.embeddings;

    /// <inheritdoc />
    public int MaxLength => crate.embeddings.MaxLength;

    /// <summary>The CRATE layers in order (for the white-box measurements).</summary>
    public IReadOnlyList<CrateBertLayer> Layers => crate.encoder.layer.ToList();

    /// <inheritdoc />
    public bool Fast
    {
        get => crate.encoder.layer.Count == 0 || crate.encoder.layer[0].Fast;
        set { foreach (var layer in crate.encoder.layer) layer.Fast = value; }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> TiedKeys { get; } = new Dictionary<string, string>
    {
        ["lm_head.decoder.weight"] = "crate.embeddings.word_embeddings.weight",
        ["lm_head.decoder.bias"] = "lm_head.bias",
    };

    /// <inheritdoc />
    public Tensor Encode(Tensor ids, Tensor? keyPadding) => crate.forward(ids, keyPadding);

    /// <inheritdoc />
    public Tensor Logits(Tensor hidden) => lm_head.forward(hidden, crate.embeddings.word_embeddings.weight!);

    /// <summary>Token ids [B, T] without padding → MLM logits [B, T, V].</summary>
    public override Tensor forward(Tensor ids) => forward(ids, null);

    /// <summary>Token ids [B, T] and a key-padding mask [B, T] (true = padding) → MLM logits [B, T, V].</summary>
    public Tensor forward(Tensor ids, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        return Logits(Encode(ids, keyPadding)).MoveToOuterDisposeScope();
    }

    /// <inheritdoc />
    public int LayerOf(string parameterName) => MaskedLanguageModels.LayerOf(parameterName, BaseModelPrefix, Config.NumLayers);
}
