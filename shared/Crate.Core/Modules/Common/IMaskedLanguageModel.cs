using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// What the masked-LM task needs from <see cref="BertForMaskedLM"/> and <see cref="CrateBertForMaskedLM"/>: the encoder
/// (hidden states for probes and fine-tuning), the MLM logits, and the Hugging Face naming facts (base-model prefix,
/// tied keys) that loading and layer-wise decay use.
/// </summary>
public interface IMaskedLanguageModel
{
    /// <summary>The model's shape.</summary>
    BertModelConfig Config { get; }

    /// <summary>The base model's state_dict prefix: <c>bert</c> or <c>crate</c>.</summary>
    string BaseModelPrefix { get; }

    /// <summary>The embeddings (Z¹ for the white-box measurements).</summary>
    BertEmbeddings Embeddings { get; }

    /// <summary>The longest input in tokens.</summary>
    int MaxLength { get; }

    /// <summary>Use the fast attention (and ISTA) kernels; the same function either way.</summary>
    bool Fast { get; set; }

    /// <summary>Token ids [B, T] (int64) → hidden states [B, T, d]; <paramref name="keyPadding"/> [B, T] is true at padding.</summary>
    Tensor Encode(Tensor ids, Tensor? keyPadding);

    /// <summary>Hidden states [..., d] (all tokens, or only the masked ones) → MLM logits [..., V].</summary>
    Tensor Logits(Tensor hidden);

    /// <summary>
    /// Keys a Hugging Face state_dict holds beyond ours because they alias another tensor: alias → the key it equals
    /// (the decoder weight is the word embedding, the decoder bias is the head's bias).
    /// </summary>
    IReadOnlyDictionary<string, string> TiedKeys { get; }

    /// <summary>
    /// Layer id of a parameter for layer-wise learning-rate decay: 0 the embeddings, i + 1 encoder layer i,
    /// L + 1 everything after the layers (the heads).
    /// </summary>
    int LayerOf(string parameterName);
}

/// <summary>Helpers shared by the masked-LM models.</summary>
public static class MaskedLanguageModels
{
    /// <summary>Buffers some Hugging Face files carry (<c>position_ids</c>, <c>token_type_ids</c>) that hold no weights.</summary>
    public static IReadOnlyList<string> BufferKeys(string prefix) =>
        [$"{prefix}.embeddings.position_ids", $"{prefix}.embeddings.token_type_ids"];

    /// <summary>Layer id of <paramref name="name"/> under <paramref name="prefix"/> for <paramref name="layers"/> layers (see <see cref="IMaskedLanguageModel.LayerOf"/>).</summary>
    public static int LayerOf(string name, string prefix, int layers)
    {
        if (name.StartsWith(prefix + ".embeddings.", StringComparison.Ordinal)) return 0;
        string layer = prefix + ".encoder.layer.";
        if (name.StartsWith(layer, StringComparison.Ordinal))
        {
            int end = name.IndexOf('.', layer.Length);
            return int.Parse(name.AsSpan(layer.Length, end - layer.Length), System.Globalization.CultureInfo.InvariantCulture) + 1;
        }
        return layers + 1;
    }
}
