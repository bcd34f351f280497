using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// Hugging Face's BERT / RoBERTa embeddings, one module for both since their parameters agree:
/// LN(word(ids) + position(pos) + token_type(0)) then dropout (hidden dropout), LN eps from the config.
/// BERT numbers positions 0 … T−1; with <c>robertaPositions</c> (the CRATE port, docs/paper.md §3e, pitfall 6.15)
/// a real token's position is pad + its 1-based index among the real tokens and a padding token's is pad.
/// Names: <c>word_embeddings</c>, <c>position_embeddings</c>, <c>token_type_embeddings</c>, <c>LayerNorm</c>.
/// </summary>
public sealed class BertEmbeddings : nn.Module<Tensor, Tensor>
{
    /// <summary>Token embedding [V, d] (padding row zero at init, never updated); the tied MLM decoder weight.</summary>
    public readonly Embedding word_embeddings;

    /// <summary>Learned absolute positions [P, d].</summary>
    public readonly Embedding position_embeddings;

    /// <summary>Segment embeddings [types, d]; every input here is segment 0.</summary>
    public readonly Embedding token_type_embeddings;

    /// <summary>The embedding LayerNorm.</summary>
    public readonly LayerNorm LayerNorm;

    private readonly Dropout dropout;
    private readonly BertModelConfig config;
    private readonly bool robertaPositions;

    /// <summary>Embeddings for <paramref name="config"/>, BERT's positions or (<paramref name="robertaPositions"/>) RoBERTa's.</summary>
    public BertEmbeddings(BertModelConfig config, bool robertaPositions) : base(nameof(BertEmbeddings))
    {
        this.config = config;
        this.robertaPositions = robertaPositions;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId);
        position_embeddings = robertaPositions
            ? nn.Embedding(config.MaxPositions, config.HiddenSize, padding_idx: config.PadTokenId)
            : nn.Embedding(config.MaxPositions, config.HiddenSize);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        dropout = nn.Dropout(config.HiddenDropout);
        RegisterComponents();
    }

    /// <summary>The longest input these embeddings take.</summary>
    public int MaxLength => config.MaxLength(robertaPositions);

    /// <summary>Token ids [B, T] (int64) → Z¹ [B, T, d].</summary>
    public override Tensor forward(Tensor ids)
    {
        long t = ids.shape[1];
        if (t > MaxLength)
            throw new ArgumentException($"sequence length {t} exceeds the {MaxLength} positions of the embeddings");
        using var scope = NewDisposeScope();
        var positions = PositionIds(ids);                                                  // [B, T] or [1, T]
        var types = zeros(1, t, ScalarType.Int64, ids.device);                             // [1, T]
        var sum = word_embeddings.forward(ids) + position_embeddings.forward(positions) + token_type_embeddings.forward(types);
        return dropout.forward(LayerNorm.forward(sum)).MoveToOuterDisposeScope();          // [B, T, d]
    }

    /// <summary>BERT: 0 … T−1 as [1, T]; RoBERTa: pad + cumulative count of real tokens at real tokens, pad at padding, [B, T].</summary>
    public Tensor PositionIds(Tensor ids)
    {
        using var scope = NewDisposeScope();
        if (!robertaPositions)
            return arange(ids.shape[1], dtype: ScalarType.Int64, device: ids.device).unsqueeze(0).MoveToOuterDisposeScope();
        var real = ids.ne(config.PadTokenId).to(ScalarType.Int64);                          // [B, T]
        return (real.cumsum(1) * real + config.PadTokenId).MoveToOuterDisposeScope();
    }

    /// <summary>Hugging Face's init: N(0, 0.02) with the padding rows zeroed; LayerNorm 1 and 0.</summary>
    internal void InitHuggingFace()
    {
        using var _ = no_grad();
        foreach (var embedding in new[] { word_embeddings, position_embeddings, token_type_embeddings })
            nn.init.normal_(embedding.weight!, 0.0, 0.02);
        word_embeddings.weight![config.PadTokenId].zero_();
        if (robertaPositions)
            position_embeddings.weight![config.PadTokenId].zero_();
    }
}

/// <summary>The encoder part of a Hugging Face BERT-style model: <c>layer.{i}</c>, each taking a key-padding mask.</summary>
public sealed class BertEncoderStack<TLayer> : nn.Module where TLayer : nn.Module, IMaskedEncoderLayer
{
    /// <summary>The layers in order.</summary>
    public readonly ModuleList<TLayer> layer;

    /// <summary>Assembles the stack.</summary>
    public BertEncoderStack(IEnumerable<TLayer> layers) : base("BertEncoder")
    {
        layer = new ModuleList<TLayer>(layers.ToArray());
        RegisterComponents();
    }

    /// <summary>Z¹ [B, T, d] → Z^{L+1} [B, T, d] through every layer.</summary>
    public Tensor forward(Tensor x, Tensor? keyPadding)
    {
        foreach (var l in layer)
            x = l.forward(x, keyPadding);
        return x;
    }
}

/// <summary>
/// The base model of a Hugging Face BERT-style masked LM (<c>bert.*</c> / the port's <c>crate.*</c>): embeddings
/// and encoder, no pooler (the masked-LM classes are built without it).
/// </summary>
public sealed class BertBody<TLayer> : nn.Module where TLayer : nn.Module, IMaskedEncoderLayer
{
    /// <summary>The embeddings.</summary>
    public readonly BertEmbeddings embeddings;

    /// <summary>The layers.</summary>
    public readonly BertEncoderStack<TLayer> encoder;

    /// <summary>Assembles the base model.</summary>
    public BertBody(BertEmbeddings embeddings, IEnumerable<TLayer> layers) : base("BertBody")
    {
        this.embeddings = embeddings;
        encoder = new BertEncoderStack<TLayer>(layers);
        RegisterComponents();
    }

    /// <summary>Token ids [B, T] → hidden states [B, T, d]; <paramref name="keyPadding"/> [B, T] true at padding.</summary>
    public Tensor forward(Tensor ids, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        return encoder.forward(embeddings.forward(ids), keyPadding).MoveToOuterDisposeScope();
    }
}
