using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>nanoGPT's MLP: <c>c_fc</c> (d → 4d) → GELU → <c>c_proj</c> (4d → d) → dropout.</summary>
public sealed class GptMlp : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    /// <summary>Expansion d → 4d.</summary>
    public readonly Linear c_fc;

    /// <summary>Contraction 4d → d (scaled init N(0, 0.02/√(2L))).</summary>
    public readonly Linear c_proj;

    private readonly Dropout dropout;

    /// <inheritdoc/>
    public ScalarType? ComputeType { get; set; }

    /// <summary>MLP for <paramref name="config"/>.</summary>
    public GptMlp(GptConfig config) : base(nameof(GptMlp))
    {
        c_fc = nn.Linear(config.NEmbd, 4L * config.NEmbd, hasBias: config.Bias);
        c_proj = nn.Linear(4L * config.NEmbd, config.NEmbd, hasBias: config.Bias);
        dropout = nn.Dropout(config.Dropout);
        RegisterComponents();
    }

    /// <summary>[B, T, d] → [B, T, d].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = nn.functional.gelu(MixedPrecision.Linear(c_fc, x, ComputeType));                  // [B, T, 4d]
        return MixedPrecision.Out(dropout.forward(MixedPrecision.Linear(c_proj, h, ComputeType)), ComputeType).MoveToOuterDisposeScope();
    }
}
