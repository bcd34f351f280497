using Crate.Core.Training;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// A module whose heavy products (Linear layers, matmuls, attention) can run in a lower compute type while its
/// parameters stay float32. <see cref="MixedPrecision.Apply"/> sets <see cref="ComputeType"/> on every such
/// module of a model; the module routes its products through <see cref="MixedPrecision"/>.
/// </summary>
public interface IMixedPrecision
{
    /// <summary>The compute type of the products (e.g. bfloat16); null: the input's own type (float32).</summary>
    ScalarType? ComputeType { get; set; }
}

/// <summary>
/// Explicit mixed precision, the one place the models' bf16 rules live (TorchSharp has no autocast). A
/// precision-aware sub-block (<see cref="IMixedPrecision"/>: attention, MLP, ISTA, the heads) takes float32 in,
/// casts its input and weights to the compute type once, runs its products in that type, its scaled-dot-product
/// attention through <see cref="Attention"/> (bf16 on CUDA, float32 on the CPU, where libtorch's bf16 attention
/// backward is slow) and hands float32 back (<see cref="Out"/>).
/// So the residual stream, LayerNorm, embeddings, the loss, the master weights and their gradients (the cast's
/// backward returns float32) and the optimizer state stay float32. With a null compute type every helper is
/// the plain float32 operation, so fp32 runs compute exactly what they computed before.
/// </summary>
public static class MixedPrecision
{
    /// <summary>The compute type of <paramref name="precision"/>: bfloat16 for <see cref="Precision.Bf16"/>, null for float32.</summary>
    public static ScalarType? ComputeTypeOf(Precision precision) => precision switch
    {
        Precision.Fp32 => null,
        Precision.Bf16 => ScalarType.BFloat16,
        _ => throw new ArgumentOutOfRangeException(nameof(precision), precision, "unknown precision"),
    };

    /// <summary>
    /// Sets the compute type of <paramref name="precision"/> on <paramref name="root"/> and every precision-aware
    /// module below it; returns how many modules honour it (0: the model has none, and runs in float32).
    /// </summary>
    public static int Apply(nn.Module root, Precision precision)
    {
        var type = ComputeTypeOf(precision);
        int count = 0;
        foreach (var module in root.modules().Prepend(root).Distinct(ReferenceEqualityComparer.Instance))
            if (module is IMixedPrecision aware) { aware.ComputeType = type; count++; }
        return count;
    }

    /// <summary><paramref name="x"/> in the compute type <paramref name="type"/> (unchanged when null or already so).</summary>
    public static Tensor In(Tensor x, ScalarType? type) =>
        type is { } t && x.dtype != t ? x.to_type(t) : x;

    /// <summary>A sub-block's result back in float32 (unchanged when <paramref name="type"/> is null or it is float32 already).</summary>
    public static Tensor Out(Tensor y, ScalarType? type) =>
        type is not null && y.dtype != ScalarType.Float32 ? y.to_type(ScalarType.Float32) : y;

    /// <summary>x·Wᵀ + b of <paramref name="layer"/> in <paramref name="type"/>; the result stays in that type.</summary>
    public static Tensor Linear(Linear layer, Tensor x, ScalarType? type) =>
        type is null ? layer.forward(x) : Linear(x, layer.weight!, layer.bias, type);

    /// <summary>
    /// x·Wᵀ + b with <paramref name="weight"/> [out, in] in <paramref name="type"/>; the result stays in that type. The
    /// bias is added after the product: libtorch 2.10's bf16 linear-with-bias (addmm) on the CPU took 1.7× the time of
    /// the product alone at d = 192 (measured), the separate add far less.
    /// </summary>
    public static Tensor Linear(Tensor x, Tensor weight, Tensor? bias, ScalarType? type)
    {
        if (type is null) return nn.functional.linear(x, weight, bias);
        using var scope = NewDisposeScope();
        var y = nn.functional.linear(In(x, type), In(weight, type));
        return (bias is null ? y : y.add_(In(bias, type))).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <paramref name="layers"/> applied in order, its Linear layers through <see cref="Linear(TorchSharp.Modules.Linear, Tensor, ScalarType?)"/>
    /// (the rest, activations and dropout, as they are); the result stays in <paramref name="type"/>. With a null type,
    /// the Sequential's own forward.
    /// </summary>
    public static Tensor Sequential(Sequential layers, Tensor x, ScalarType? type)
    {
        if (type is null) return layers.forward(x);
        var y = x;
        foreach (var layer in layers.children())
            y = layer is Linear linear ? Linear(linear, y, type) : ((nn.Module<Tensor, Tensor>)layer).forward(y);
        return y;
    }

    /// <summary>
    /// scaled_dot_product_attention(q, k, v) in the type of <paramref name="q"/>, except bfloat16 on the CPU, which
    /// runs in float32 and is cast back: libtorch 2.10's CPU attention backward in bf16 measured 2.6× slower than
    /// float32 at [128, 6, 50, 32] (the forward was even), while the casts cost a few percent of it. On CUDA it
    /// stays in bf16.
    /// </summary>
    public static Tensor Attention(Tensor q, Tensor k, Tensor v, Tensor? mask = null, double dropout = 0, bool causal = false)
    {
        if (q.dtype == ScalarType.Float32 || q.device_type != DeviceType.CPU)
            return nn.functional.scaled_dot_product_attention(q, k, v, mask, dropout, is_casual: causal);
        using var scope = NewDisposeScope();
        var f = ScalarType.Float32;
        var q32 = q.to_type(f);
        var o = nn.functional.scaled_dot_product_attention(q32, ReferenceEquals(k, q) ? q32 : k.to_type(f),
            ReferenceEquals(v, q) ? q32 : v.to_type(f), mask, dropout, is_casual: causal);
        return o.to_type(q.dtype).MoveToOuterDisposeScope();
    }

    /// <summary>a·b in <paramref name="type"/>; the result stays in that type.</summary>
    public static Tensor MatMul(Tensor a, Tensor b, ScalarType? type) =>
        type is null ? matmul(a, b) : matmul(In(a, type), In(b, type));

    /// <summary>
    /// softmax over <paramref name="dim"/> with float32 statistics (max, exp-sum), returned in the type of
    /// <paramref name="logits"/>: the explicit formulas' softmax (the fused attention does the same inside).
    /// </summary>
    public static Tensor Softmax(Tensor logits, long dim)
    {
        if (logits.dtype == ScalarType.Float32) return nn.functional.softmax(logits, dim);
        using var scope = NewDisposeScope();
        return nn.functional.softmax(logits.to_type(ScalarType.Float32), dim).to_type(logits.dtype).MoveToOuterDisposeScope();
    }
}
