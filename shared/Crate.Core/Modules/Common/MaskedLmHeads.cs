using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The MLM head's transform, BERT's and RoBERTa's alike: LN(GELU(dense(h))), then the decoder tied to the word
/// embedding plus its own bias. BERT names it <c>cls.predictions.{transform.dense, transform.LayerNorm, bias}</c>
/// (<see cref="BertOnlyMlmHead"/>), RoBERTa and the CRATE port <c>lm_head.{dense, layer_norm, bias}</c>
/// (<see cref="RobertaMlmHead"/>). The tied <c>decoder.weight</c> / <c>decoder.bias</c> of their files are the
/// same tensors as the word embedding and <c>bias</c>, so they are not parameters here.
/// </summary>
public static class MlmHeadMath
{
    /// <summary>
    /// h [..., d] → logits [..., V] = LN(GELU(h·Wᵀ + b))·Eᵀ + bias; the two products in <paramref name="computeType"/>
    /// (<see cref="MixedPrecision"/>), the LayerNorm and the logits in float32.
    /// </summary>
    public static Tensor Logits(Tensor hidden, Linear dense, LayerNorm norm, Tensor wordEmbedding, Tensor bias, ScalarType? computeType = null)
    {
        using var scope = NewDisposeScope();
        var g = MixedPrecision.Out(nn.functional.gelu(MixedPrecision.Linear(dense, hidden, computeType)), computeType);
        var h = norm.forward(g);                                                                  // [..., d]
        var logits = MixedPrecision.Linear(h, wordEmbedding, bias, computeType);                  // [..., V]
        return MixedPrecision.Out(logits, computeType).MoveToOuterDisposeScope();
    }
}

/// <summary>BERT's <c>cls</c>: <c>predictions.transform.{dense, LayerNorm}</c> and <c>predictions.bias</c>.</summary>
public sealed class BertOnlyMlmHead : nn.Module, IMixedPrecision
{
    /// <summary><c>cls.predictions</c>.</summary>
    public readonly PredictionHead predictions;

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>A head for <paramref name="config"/> (decoder bias zero, HF's init).</summary>
    public BertOnlyMlmHead(BertModelConfig config) : base(nameof(BertOnlyMlmHead))
    {
        predictions = new PredictionHead(config);
        RegisterComponents();
    }

    /// <summary>h [..., d] → logits [..., V] with the tied <paramref name="wordEmbedding"/> [V, d].</summary>
    public Tensor forward(Tensor hidden, Tensor wordEmbedding) =>
        MlmHeadMath.Logits(hidden, predictions.transform.dense, predictions.transform.LayerNorm, wordEmbedding, predictions.bias, ComputeType);

    /// <summary><c>predictions</c>: the transform and the decoder bias.</summary>
    public sealed class PredictionHead : nn.Module
    {
        /// <summary><c>transform</c>.</summary>
        public readonly Transform transform;
        /// <summary>Decoder bias [V].</summary>
        public readonly Parameter bias;

        /// <summary>Builds the part.</summary>
        public PredictionHead(BertModelConfig config) : base(nameof(PredictionHead))
        {
            transform = new Transform(config);
            bias = new Parameter(zeros(config.VocabSize));
            RegisterComponents();
        }
    }

    /// <summary><c>transform</c>: dense and LayerNorm (eps from the config).</summary>
    public sealed class Transform : nn.Module
    {
        /// <summary>d → d.</summary>
        public readonly Linear dense;
        /// <summary>The head's LayerNorm.</summary>
        public readonly LayerNorm LayerNorm;

        /// <summary>Builds the part.</summary>
        public Transform(BertModelConfig config) : base(nameof(Transform))
        {
            dense = nn.Linear(config.HiddenSize, config.HiddenSize);
            LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
            RegisterComponents();
        }
    }
}

/// <summary>RoBERTa's (and the CRATE port's) <c>lm_head</c>: <c>dense</c>, <c>layer_norm</c>, <c>bias</c>.</summary>
public sealed class RobertaMlmHead : nn.Module, IMixedPrecision
{
    /// <summary>d → d.</summary>
    public readonly Linear dense;
    /// <summary>The head's LayerNorm (eps from the config).</summary>
    public readonly LayerNorm layer_norm;
    /// <summary>Decoder bias [V].</summary>
    public readonly Parameter bias;

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>A head for <paramref name="config"/> (decoder bias zero).</summary>
    public RobertaMlmHead(BertModelConfig config) : base(nameof(RobertaMlmHead))
    {
        dense = nn.Linear(config.HiddenSize, config.HiddenSize);
        layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
        bias = new Parameter(zeros(config.VocabSize));
        RegisterComponents();
    }

    /// <summary>h [..., d] → logits [..., V] with the tied <paramref name="wordEmbedding"/> [V, d].</summary>
    public Tensor forward(Tensor hidden, Tensor wordEmbedding) => MlmHeadMath.Logits(hidden, dense, layer_norm, wordEmbedding, bias, ComputeType);
}
