using System.Diagnostics;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Bench;

/// <summary>One timed part of a CRATE layer: forward + backward in milliseconds (median and fastest of the repeats).</summary>
internal sealed record LayerPartTime(string Part, string Precision, double MedianMs, double MinMs);

/// <summary>
/// Where a CRATE layer's step time goes (<c>--layer B,n,d,K</c>): forward + backward of the whole <see cref="CrateLayer"/>
/// and of each of its parts in the model's own code paths (the pre-norm LayerNorm, the MSSA projection <c>qkv</c>,
/// <see cref="SubspaceAttention.Attend"/>, the output map, the ISTA block), in each precision, on a [B, n, d] float32 input
/// that needs its gradient (as inside a model). Each time is the median of <c>--steps</c> repeats after <c>--warmup</c>, each
/// repeat in its own dispose scope. The parts do not add up to the layer exactly (the layer adds the residual and frees
/// differently), but they say which part a faster product can help: on the CPU the attention of a small head width runs in
/// float32 in either precision (<see cref="MixedPrecision.Attention"/>), so its share caps what bf16 can give.
/// One more row times libtorch's own bf16 scaled_dot_product_attention, the reason the attention stays float32 there.
/// </summary>
internal static class CrateLayerBench
{
    public static List<LayerPartTime> Run(LayerShape shape, BenchOptions o)
    {
        var rows = new List<LayerPartTime>();
        using var outer = NewDisposeScope();
        manual_seed(0);
        var x = randn(shape.Batch, shape.Tokens, shape.Dim);                                 // [B, n, d]
        using var layer = new CrateLayer(shape.Dim, shape.Heads, shape.Dim / shape.Heads);
        var mssa = layer.Attention.fn;
        foreach (var precision in o.Precisions)
        {
            MixedPrecision.Apply(layer, precision);
            var type = MixedPrecision.ComputeTypeOf(precision);
            string p = precision == Precision.Bf16 ? "bf16" : "fp32";
            var w = MixedPrecision.Linear(mssa.qkv, x, type).detach();                          // the attention's input [B, n, K·p]
            var o1 = SubspaceAttention.Attend(w, shape.Heads).detach();                         // the output map's input [B, n, K·p]
            rows.Add(Time("CRATE layer", p, v => layer.forward(v), x, o));
            rows.Add(Time("  LayerNorm (one of two)", p, v => layer.Attention.norm.forward(v), x, o));
            rows.Add(Time("  MSSA qkv projection", p, v => MixedPrecision.Out(MixedPrecision.Linear(mssa.qkv, v, type), type), x, o));
            rows.Add(Time("  MSSA attention", p, v => MixedPrecision.Out(SubspaceAttention.Attend(v, shape.Heads), type), w, o));
            rows.Add(Time("  MSSA output map", p, v => MixedPrecision.Out(mssa.OutputMap(v), type), o1, o));
            rows.Add(Time("  ISTA block", p, v => layer.Ista.fn.forward(v), x, o));
            if (precision == Precision.Bf16)
            {
                rows.Add(Time("  (a bf16 stream, not the models' path)", p, v => Bf16StreamLayer(layer, v.to_type(ScalarType.BFloat16), shape), x, o));
                rows.Add(Time("  (libtorch bf16 attention, not used on CPU)", p, v =>
                {
                    var wh = v.view(shape.Batch, shape.Tokens, shape.Heads, shape.Dim / shape.Heads).transpose(1, 2);   // [B, K, n, p]
                    return nn.functional.scaled_dot_product_attention(wh, wh, wh);
                }, w, o));
            }
        }
        MixedPrecision.Apply(layer, Precision.Fp32);
        return rows;
    }

    /// <summary>
    /// The same layer with its activations kept in bf16 between the parts (LayerNorm on the bf16 stream with float32
    /// statistics inside libtorch's kernel, the residual add in bf16, the attention still in float32): what bf16 could give
    /// without the casts in and out of every part. Not what the models compute (their residual stream stays float32).
    /// </summary>
    private static Tensor Bf16StreamLayer(CrateLayer layer, Tensor z, LayerShape shape)
    {
        var bf = ScalarType.BFloat16;
        var (mssa, ista) = (layer.Attention.fn, layer.Ista.fn);
        Tensor Norm(TorchSharp.Modules.LayerNorm ln, Tensor x) =>
            nn.functional.layer_norm(x, [shape.Dim], MixedPrecision.In(ln.weight!, bf), MixedPrecision.In(ln.bias!, bf));
        var w = MixedPrecision.Linear(mssa.qkv, Norm(layer.Attention.norm, z), bf);                   // [B, n, K·p] bf16
        var half = z + mssa.OutputMap(SubspaceAttention.Attend(w, shape.Heads));                      // Z^{ℓ+1/2} [B, n, d] bf16 (mssa's compute type)
        var m = IstaBlock.StepMatrix(ista.weight, ista.Eta);                                           // M [d, d] float32
        return nn.functional.relu(MixedPrecision.MatMul(Norm(layer.Ista.norm, half), m, bf) - ista.Eta * ista.Lambda);   // Z^{ℓ+1} bf16
    }

    /// <summary>Median and fastest forward + backward of <paramref name="f"/> on a fresh leaf copy of <paramref name="input"/>.</summary>
    private static LayerPartTime Time(string part, string precision, Func<Tensor, Tensor> f, Tensor input, BenchOptions o)
    {
        var times = new List<double>(o.Steps);
        for (int i = 0; i < o.Warmup + o.Steps; i++)
        {
            using var scope = NewDisposeScope();
            var v = input.detach().requires_grad_(true);
            var clock = Stopwatch.StartNew();
            f(v).sum().backward();
            if (i >= o.Warmup) times.Add(clock.Elapsed.TotalMilliseconds);
        }
        times.Sort();
        return new LayerPartTime(part, precision, times[times.Count / 2], times[0]);
    }

    public static void Print(IReadOnlyList<LayerPartTime> rows, LayerShape shape, BenchOptions o, MachineFacts m)
    {
        Console.WriteLine($"one CRATE layer, {shape}; forward + backward, median of {o.Steps} after {o.Warmup} warm-up; {m.TorchThreads} threads; " +
                          $"load average at start {m.LoadAverageAtStart}");
        Console.WriteLine($"| {"part",-44} | {"prec",-4} | {"median ms",9} | {"min ms",7} | {"% of layer",10} |");
        Console.WriteLine($"|{new string('-', 46)}|{new string('-', 6)}|{new string('-', 11)}|{new string('-', 9)}|{new string('-', 12)}|");
        foreach (var r in rows)
        {
            double whole = rows.First(x => x.Precision == r.Precision).MedianMs;
            Console.WriteLine($"| {r.Part,-44} | {r.Precision,-4} | {r.MedianMs,9:F2} | {r.MinMs,7:F2} | {100 * r.MedianMs / whole,9:F0}% |");
        }
    }
}
