using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// One CRATE-BERT encoder layer (docs/paper.md §3e, the Hugging Face CRATE port): x + dropout(dense(
/// MSSA(prenorm(x)))) with a bias-free output map, then ISTA(prenorm(·)) with no residual.
/// Names: <c>attention.self.prenorm.*</c>, <c>attention.self.qkv.weight</c>,
/// <c>attention.output.dense.weight</c>, <c>output.prenorm.*</c>, <c>output.weight</c> (D).
/// </summary>
public sealed class CrateBertLayer : nn.Module<Tensor, Tensor>, ICrateLayer, IMaskedEncoderLayer, IMixedPrecision
{
    /// <summary>The attention part.</summary>
    public readonly AttentionPart attention;

    /// <summary>The ISTA part (<c>output.weight</c> = D, <c>output.prenorm</c>).</summary>
    public readonly IstaPart output;

    private readonly BertConfig config;

    /// <summary>A layer for <paramref name="config"/>.</summary>
    public CrateBertLayer(BertConfig config) : base(nameof(CrateBertLayer))
    {
        this.config = config;
        attention = new AttentionPart(config);
        output = new IstaPart(config);
        Fast = config.Fast;
        RegisterComponents();
        ModuleInit.NormalLinears(this, 0.02);   // HF init; D is a raw parameter and keeps kaiming-uniform
    }

    /// <inheritdoc/>
    public int Heads => config.NumHeads;

    /// <summary>Use the fast attention and ISTA paths (same function).</summary>
    public bool Fast { get; set; }

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>[B, n, d] → [B, n, d].</summary>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>As <see cref="forward(Tensor)"/> with a key-padding mask [B, n] (true = padding).</summary>
    public Tensor forward(Tensor x, Tensor? keyPadding)
    {
        using var scope = NewDisposeScope();
        var t = ComputeType;
        var w = MixedPrecision.Linear(attention.self.qkv, attention.self.prenorm.forward(x), t);   // [B, n, d]
        var ctx = SubspaceAttention.Attend(w, config.NumHeads, false, keyPadding,
            config.AttentionDropout, training, Fast);                              // [B, n, d]
        var half = x + attention.output.forward(ctx, t);                           // residual on the un-normed x, float32
        var y = output.prenorm.forward(half);
        return IstaBlock.Step(y, output.weight, config.Eta, config.Lambda, Fast, t).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public Tensor Project(Tensor z)
    {
        using var scope = NewDisposeScope();
        return attention.self.qkv.forward(attention.self.prenorm.forward(z)).MoveToOuterDisposeScope();
    }

    /// <summary><c>attention</c>: <c>self</c> (prenorm, qkv) and <c>output</c> (dense, no bias).</summary>
    public sealed class AttentionPart : nn.Module
    {
        /// <summary><c>attention.self</c>.</summary>
        public readonly SelfPart self;

        /// <summary><c>attention.output</c>.</summary>
        public readonly DenseOut output;

        /// <summary>Builds the part.</summary>
        public AttentionPart(BertConfig config) : base(nameof(AttentionPart))
        {
            self = new SelfPart(config.HiddenSize);
            output = new DenseOut(config);
            RegisterComponents();
        }
    }

    /// <summary><c>attention.self</c>: the pre-norm and the shared bias-free projection.</summary>
    public sealed class SelfPart : nn.Module
    {
        /// <summary>Pre-norm (PyTorch default eps).</summary>
        public readonly LayerNorm prenorm;
        /// <summary>Shared projection U.</summary>
        public readonly Linear qkv;

        /// <summary>Builds the part.</summary>
        public SelfPart(long d) : base(nameof(SelfPart))
        {
            prenorm = nn.LayerNorm(d);
            qkv = nn.Linear(d, d, hasBias: false);
            RegisterComponents();
        }
    }

    /// <summary><c>attention.output</c>: bias-free dense and dropout.</summary>
    public sealed class DenseOut : nn.Module<Tensor, Tensor>
    {
        /// <summary>Output map (no bias in this port).</summary>
        public readonly Linear dense;
        private readonly Dropout dropout;

        /// <summary>Builds the part.</summary>
        public DenseOut(BertConfig config) : base(nameof(DenseOut))
        {
            dense = nn.Linear(config.HiddenSize, config.HiddenSize, hasBias: false);
            dropout = nn.Dropout(config.HiddenDropout);
            RegisterComponents();
        }

        /// <summary>[B, n, d] → [B, n, d].</summary>
        public override Tensor forward(Tensor x) => forward(x, null);

        /// <summary>As <see cref="forward(Tensor)"/> with the dense in <paramref name="computeType"/>; the result is float32.</summary>
        public Tensor forward(Tensor x, ScalarType? computeType)
        {
            using var scope = NewDisposeScope();
            return MixedPrecision.Out(dropout.forward(MixedPrecision.Linear(dense, x, computeType)), computeType).MoveToOuterDisposeScope();
        }
    }

    /// <summary><c>output</c>: the dictionary D (<c>weight</c>) and its pre-norm.</summary>
    public sealed class IstaPart : nn.Module
    {
        /// <summary>D [d, d], kaiming-uniform (a = 0).</summary>
        public readonly Parameter weight;
        /// <summary>Pre-norm.</summary>
        public readonly LayerNorm prenorm;

        /// <summary>Builds the part.</summary>
        public IstaPart(BertConfig config) : base(nameof(IstaPart))
        {
            weight = new Parameter(empty(config.HiddenSize, config.HiddenSize));
            using (no_grad())
                nn.init.kaiming_uniform_(weight);
            prenorm = nn.LayerNorm(config.HiddenSize);
            RegisterComponents();
        }
    }
}
