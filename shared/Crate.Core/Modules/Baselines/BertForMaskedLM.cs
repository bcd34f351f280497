using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// BERT for masked language modelling as Hugging Face's <c>BertForMaskedLM</c> (the baseline of docs/paper.md §3e):
/// <c>bert.embeddings.*</c> (positions from 0), <c>bert.encoder.layer.{i}.*</c> (<see cref="BertLayer"/>, post-norm),
/// no pooler, and <c>cls.predictions.{transform.dense, transform.LayerNorm, bias}</c> with the decoder tied to
/// <c>bert.embeddings.word_embeddings.weight</c>. Hugging Face's init: Linear and Embedding N(0, 0.02), biases 0,
/// padding row 0, LayerNorm 1 and 0.
/// </summary>
public sealed class BertForMaskedLM : nn.Module<Tensor, Tensor>, IMaskedLanguageModel
{
    /// <summary>The base model (<c>bert.*</c>).</summary>
    public readonly BertBody<BertLayer> bert;

    /// <summary>The MLM head (<c>cls.*</c>).</summary>
    public readonly BertOnlyMlmHead cls;

    /// <summary>Builds the model with Hugging Face's initialisation.</summary>
    public BertForMaskedLM(BertModelConfig config) : base(nameof(BertForMaskedLM))
    {
        config.Validate();
        Config = config;
        bert = new BertBody<BertLayer>(new BertEmbeddings(config, robertaPositions: false),
            Enumerable.Range(0, config.NumLayers).Select(_ => new BertLayer(config.Layer)));
        cls = new BertOnlyMlmHead(config);
        RegisterComponents();
        ModuleInit.NormalLinears(this, 0.02);
        bert.embeddings.InitHuggingFace();
    }

    /// <inheritdoc />
    public BertModelConfig Config { get; }

    /// <inheritdoc />
    public string BaseModelPrefix => "bert";

    /// <inheritdoc />
    public BertEmbeddings Embeddings => bert.embeddings;

    /// <inheritdoc />
    public int MaxLength => bert.embeddings.MaxLength;

    /// <summary>The layers in order.</summary>
    public IReadOnlyList<BertLayer> Layers => bert.encoder.layer.ToList();

    /// <inheritdoc />
    public bool Fast
    {
        get => bert.encoder.layer.Count == 0 || bert.encoder.layer[0].Fast;
        set { foreach (var layer in bert.encoder.layer) layer.Fast = value; }
    }

    /// <inheritdoc />
    public IReadOnlyDictionary<string, string> TiedKeys { get; } = new Dictionary<string, string>
    {
        ["cls.predictions.decoder.weight"] = "bert.embeddings.word_embeddings.weight",
        ["cls.predictions.decoder.bias"] = "cls.predictions.bias",
    };

    /// <inheritdoc />
    public Tensor Encode(Tensor ids, Tensor? keyPadding) => bert.forward(ids, keyPadding);

    /// <inheritdoc />
    public Tensor Logits(Tensor hidden) => cls.forward(hidden, bert.embeddings.word_embeddings.weight!);

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
