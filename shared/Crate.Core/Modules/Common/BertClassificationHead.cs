using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The sequence-classification head of RoBERTa and the CRATE port (docs/paper.md §3e): the first token's hidden
/// state → dropout → <c>dense</c> (d → d) + tanh → dropout → <c>out_proj</c> (d → classes). Hugging Face's init
/// (N(0, 0.02), biases 0).
/// </summary>
public sealed class BertClassificationHead : nn.Module<Tensor, Tensor>
{
    /// <summary>d → d, then tanh.</summary>
    public readonly Linear dense;

    /// <summary>d → classes.</summary>
    public readonly Linear out_proj;

    private readonly Dropout dropout;

    /// <summary>A head over width <paramref name="hidden"/> for <paramref name="classes"/> classes.</summary>
    public BertClassificationHead(int hidden, int classes, double dropout) : base(nameof(BertClassificationHead))
    {
        dense = nn.Linear(hidden, hidden);
        out_proj = nn.Linear(hidden, classes);
        this.dropout = nn.Dropout(dropout);
        RegisterComponents();
        ModuleInit.NormalLinears(this, 0.02);
    }

    /// <summary>Hidden states [B, T, d] → logits [B, classes] from token 0 ([CLS]).</summary>
    public override Tensor forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        var x = dropout.forward(hidden.select(1, 0));                              // [B, d]
        x = dropout.forward(tanh(dense.forward(x)));
        return out_proj.forward(x).MoveToOuterDisposeScope();                      // [B, classes]
    }
}

/// <summary>
/// A pre-trained masked LM's encoder with a classification head (<c>classifier.*</c>), for fine-tuning: the
/// encoder's parameters keep their names (<c>bert.*</c> / <c>crate.*</c>); the MLM head stays in the module
/// (unused here) so the pre-trained checkpoint and this model share one state.
/// </summary>
public sealed class MaskedLmClassifier : nn.Module<Tensor, Tensor, Tensor>
{
    /// <summary>The pre-trained model (its encoder is used).</summary>
    public readonly nn.Module mlm;

    /// <summary>The classification head.</summary>
    public readonly BertClassificationHead classifier;

    private readonly IMaskedLanguageModel model;

    /// <summary>Wraps <paramref name="model"/> (not owned separately: disposing this disposes it) with a new head.</summary>
    public MaskedLmClassifier(IMaskedLanguageModel model, int classes, double dropout) : base(nameof(MaskedLmClassifier))
    {
        this.model = model;
        mlm = (nn.Module)model;
        classifier = new BertClassificationHead(model.Config.HiddenSize, classes, dropout);
        RegisterComponents();
    }

    /// <summary>The wrapped masked LM.</summary>
    public IMaskedLanguageModel Model => model;

    /// <summary>Token ids [B, T] and key-padding mask [B, T] (true = padding) → class logits [B, classes].</summary>
    public override Tensor forward(Tensor ids, Tensor keyPadding)
    {
        using var scope = NewDisposeScope();
        return classifier.forward(model.Encode(ids, keyPadding)).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Stops training the MLM head (<c>cls.*</c> / <c>lm_head.*</c>, which fine-tuning does not use; the tied word
    /// embedding belongs to the encoder and keeps training): its parameters get <c>requires_grad = false</c>, so an
    /// optimizer built afterwards leaves them out (no weight decay on them either). Returns how many were frozen.
    /// </summary>
    public int FreezeMlmHead()
    {
        string encoder = $"mlm.{model.BaseModelPrefix}.";
        int frozen = 0;
        foreach (var (name, parameter) in named_parameters())
            if (name.StartsWith("mlm.", StringComparison.Ordinal) && !name.StartsWith(encoder, StringComparison.Ordinal))
            {
                parameter.requires_grad = false;
                frozen++;
            }
        return frozen;
    }

    /// <summary>Layer id for layer-wise decay: the encoder's ids (<c>mlm.</c> stripped), the head after the last layer.</summary>
    public int LayerOf(string parameterName) =>
        parameterName.StartsWith("mlm.", StringComparison.Ordinal) ? model.LayerOf(parameterName[4..]) : model.Config.NumLayers + 1;
}
