using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// One post-norm BERT encoder layer with Hugging Face names (baseline of docs/paper.md §3e):
/// a = LN(x + dropout(dense(MHA(x)))); y = LN(a + dropout(dense(GELU(dense(a))))), LN eps 1e-12; HF init (Linear N(0, 0.02), bias 0).
/// Names: <c>attention.self.{query,key,value}</c>, <c>attention.output.dense</c>,
/// <c>attention.output.LayerNorm</c>, <c>intermediate.dense</c>, <c>output.dense</c>, <c>output.LayerNorm</c>.
/// </summary>
public sealed class BertLayer : nn.Module<Tensor, Tensor>, IMaskedEncoderLayer, IMixedPrecision
{
    /// <summary>Self-attention and its output sub-layer.</summary>
    public readonly AttentionPart attention;

    /// <summary>The feed-forward expansion (<c>intermediate.dense</c>).</summary>
    public readonly DensePart intermediate;

    /// <summary>The feed-forward contraction, residual and LayerNorm.</summary>
    public readonly OutputPart output;

    private readonly BertConfig config;

    /// <summary>Use scaled_dot_product_attention (same function).</summary>
    public bool Fast { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>A layer for <paramref name="config"/>.</summary>
    public BertLayer(BertConfig config) : base(nameof(BertLayer))
    {
        this.config = config;
        attention = new AttentionPart(config);
        intermediate = new DensePart(config.HiddenSize, config.IntermediateSize);
        output = new OutputPart(config.IntermediateSize, config);
        Fast = config.Fast;
        RegisterComponents();
        ModuleInit.NormalLinears(this, 0.02);
    }

    /// <summary>[B, n, d] → [B, n, d].</summary>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>As <see cref="forward(Tensor)"/> with a key-padding mask [B, n] (true = padding).</summary>
    public Tensor forward(Tensor x, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0], n = x.shape[1], d = x.shape[2], p = d / config.NumHeads;
        var sa = attention.self;
        var t = ComputeType;
        Tensor Heads(Linear proj) => MixedPrecision.Linear(proj, x, t).view(b, n, config.NumHeads, p).transpose(1, 2);   // [B, H, n, p]
        Tensor q = Heads(sa.query), k = Heads(sa.key), v = Heads(sa.value);
        var allowed = SubspaceAttention.AllowedKeys(n, false, keyPadding, x.device);   // [B, 1, 1, n] or null
        double pDrop = training ? config.AttentionDropout : 0.0;
        Tensor ctx;
        if (Fast)
            ctx = MixedPrecision.Attention(q, k, v, allowed, pDrop);   // [B, H, n, p]
        else
        {
            var logits = matmul(q, k.transpose(-1, -2)) * (1.0 / Math.Sqrt(p));        // [B, H, n, n]
            if (allowed is not null)
                logits = logits.masked_fill(allowed.logical_not(), double.NegativeInfinity);
            ctx = matmul(nn.functional.dropout(MixedPrecision.Softmax(logits, -1), pDrop, pDrop > 0), v);
        }
        ctx = ctx.transpose(1, 2).reshape(b, n, d);                                      // [B, n, d]
        var a = attention.output.forward(ctx, x, t);                                     // LN(x + dense(ctx)), float32
        var h = nn.functional.gelu(MixedPrecision.Linear(intermediate.dense, a, t));     // [B, n, 4d]
        return output.forward(h, a, t).MoveToOuterDisposeScope();                        // [B, n, d], float32
    }

    /// <summary><c>attention</c>: <c>self</c> (query, key, value) and <c>output</c>.</summary>
    public sealed class AttentionPart : nn.Module
    {
        /// <summary><c>attention.self</c>.</summary>
        public readonly QkvPart self;

        /// <summary><c>attention.output</c>: dense, dropout, residual, LayerNorm.</summary>
        public readonly OutputPart output;

        /// <summary>Builds the part.</summary>
        public AttentionPart(BertConfig config) : base(nameof(AttentionPart))
        {
            self = new QkvPart(config.HiddenSize);
            output = new OutputPart(config.HiddenSize, config);
            RegisterComponents();
        }
    }

    /// <summary><c>attention.self</c>: separate q, k, v projections with bias.</summary>
    public sealed class QkvPart : nn.Module
    {
        /// <summary>Query projection.</summary>
        public readonly Linear query;
        /// <summary>Key projection.</summary>
        public readonly Linear key;
        /// <summary>Value projection.</summary>
        public readonly Linear value;

        /// <summary>Builds the part.</summary>
        public QkvPart(long d) : base(nameof(QkvPart))
        {
            query = nn.Linear(d, d);
            key = nn.Linear(d, d);
            value = nn.Linear(d, d);
            RegisterComponents();
        }
    }

    /// <summary>A lone <c>dense</c> Linear (<c>intermediate</c>).</summary>
    public sealed class DensePart : nn.Module
    {
        /// <summary>The Linear.</summary>
        public readonly Linear dense;

        /// <summary>Builds the part.</summary>
        public DensePart(long inFeatures, long outFeatures) : base(nameof(DensePart))
        {
            dense = nn.Linear(inFeatures, outFeatures);
            RegisterComponents();
        }
    }

    /// <summary>HF's <c>BertSelfOutput</c> / <c>BertOutput</c>: LN(residual + dropout(dense(h))).</summary>
    public sealed class OutputPart : nn.Module
    {
        /// <summary>The Linear.</summary>
        public readonly Linear dense;
        /// <summary>The post-norm (eps 1e-12).</summary>
        public readonly LayerNorm LayerNorm;
        private readonly Dropout dropout;

        /// <summary>Builds the part.</summary>
        public OutputPart(long inFeatures, BertConfig config) : base(nameof(OutputPart))
        {
            dense = nn.Linear(inFeatures, config.HiddenSize);
            LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps);
            dropout = nn.Dropout(config.HiddenDropout);
            RegisterComponents();
        }

        /// <summary>
        /// LN(<paramref name="residual"/> + dropout(dense(<paramref name="h"/>))), the dense in <paramref name="computeType"/>
        /// (<see cref="MixedPrecision"/>), the sum and LayerNorm in float32.
        /// </summary>
        public Tensor forward(Tensor h, Tensor residual, ScalarType? computeType = null)
        {
            using var scope = NewDisposeScope();
            var y = MixedPrecision.Out(dropout.forward(MixedPrecision.Linear(dense, h, computeType)), computeType);   // [B, n, d]
            return LayerNorm.forward(residual + y).MoveToOuterDisposeScope();
        }
    }
}
