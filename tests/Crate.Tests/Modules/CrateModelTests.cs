using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>Shapes, names, gradients and the fast/plain switch of the CRATE classifier and its parts.</summary>
public class CrateModelTests
{
    private static readonly CrateConfig Tiny = new(Dim: 16, Depth: 2, Heads: 2, ImageSize: 8, PatchSize: 4, Channels: 3, NumClasses: 5);

    [Fact]
    public void StateDictKeysEqualTheReferenceNames()
    {
        using var model = new CrateClassifier(Tiny);
        var expected = new List<string>
        {
            "to_patch_embedding.1.weight", "to_patch_embedding.1.bias", "to_patch_embedding.2.weight",
            "to_patch_embedding.2.bias", "to_patch_embedding.3.weight", "to_patch_embedding.3.bias",
            "pos_embedding", "cls_token",
        };
        for (int i = 0; i < 2; i++)
            expected.AddRange(new[] { "0.norm.weight", "0.norm.bias", "0.fn.qkv.weight", "0.fn.to_out.0.weight",
                "0.fn.to_out.0.bias", "1.norm.weight", "1.norm.bias", "1.fn.weight" }.Select(s => $"transformer.layers.{i}.{s}"));
        expected.AddRange(["mlp_head.0.weight", "mlp_head.0.bias", "mlp_head.1.weight", "mlp_head.1.bias"]);
        Assert.Equal(expected.Order(StringComparer.Ordinal), model.state_dict().Keys.Order(StringComparer.Ordinal));
        var sd = model.state_dict();
        Assert.Equal(new long[] { 1, 5, 16 }, sd["pos_embedding"].shape);
        Assert.Equal(new long[] { 16, 16 }, sd["transformer.layers.1.1.fn.weight"].shape);
        Assert.Equal(new long[] { 16, 48 }, sd["to_patch_embedding.2.weight"].shape);
    }

    [Fact]
    public void ForwardShapesAndGradientsReachEveryParameter()
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        using var model = new CrateClassifier(Tiny);
        var images = randn(3, 3, 8, 8);
        var z1 = model.Embed(images);
        Assert.Equal(new long[] { 3, 5, 16 }, z1.shape);
        var zl = model.Encoder.forward(z1);
        Assert.Equal(new long[] { 3, 5, 16 }, zl.shape);
        Assert.True(zl.ge(0).all().item<bool>(), "the stream is non-negative after an ISTA block");
        var logits = model.forward(images);
        Assert.Equal(new long[] { 3, 5 }, logits.shape);
        nn.functional.cross_entropy(logits, tensor(new long[] { 0, 3, 4 })).backward();
        TensorAssert.AllParametersHaveGradients(model);
    }

    [Fact]
    public void PatchifyFlattensRowColumnChannelWithChannelFastest()
    {
        using var scope = NewDisposeScope();
        var images = arange(2 * 3 * 4 * 6, dtype: ScalarType.Float32).reshape(2, 3, 4, 6);   // [B, C, H, W]
        var patches = Patchify.Apply(images, 2);                                           // [B, 6, 12]
        Assert.Equal(new long[] { 2, 6, 12 }, patches.shape);
        for (int b = 0; b < 2; b++)
        for (int gi = 0; gi < 2; gi++)
        for (int gj = 0; gj < 3; gj++)
        {
            int idx = 0;
            for (int r = 0; r < 2; r++)
            for (int c = 0; c < 2; c++)
            for (int ch = 0; ch < 3; ch++)
                Assert.Equal(images[b, ch, gi * 2 + r, gj * 2 + c].item<float>(), patches[b, gi * 3 + gj, idx++].item<float>());
        }
        TensorAssert.Close(images, Patchify.Unapply(patches, 2, 3, 2, 3), 0);
    }

    [Fact]
    public void MeanPoolingAveragesAllTokensIncludingCls()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var model = new CrateClassifier(Tiny with { Pool = Pooling.Mean });
        var z = rand(2, 5, 16);
        var sd = model.state_dict();
        var pooled = nn.functional.layer_norm(z.mean([1]), [16], sd["mlp_head.0.weight"], sd["mlp_head.0.bias"]);
        var expected = nn.functional.linear(pooled, sd["mlp_head.1.weight"], sd["mlp_head.1.bias"]);
        TensorAssert.Close(expected, model.Head(z), 1e-6);
    }

    [Fact]
    public void LayerComputesResidualMssaThenIstaWithoutResidual()
    {
        using var scope = NewDisposeScope();
        manual_seed(9);
        using var layer = new CrateLayer(12, heads: 3, headDim: 4);
        var z = randn(2, 4, 12);
        var half = z + layer.Attention.fn.forward(layer.Attention.norm.forward(z));
        var y = layer.Ista.norm.forward(half);
        var d = layer.Ista.fn.weight;
        var expected = nn.functional.relu(y + 0.1 * (matmul(y, d) - matmul(matmul(y, d.t()), d)) - 0.01);
        TensorAssert.Close(expected, layer.forward(z), 1e-5);
        TensorAssert.Close(layer.Attention.fn.qkv.forward(layer.Attention.norm.forward(z)), layer.Project(z), 0);
    }

    [Fact]
    public void FastAndPlainClassifiersAgreeInValueAndGradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(10);
        using var model = new CrateClassifier(Tiny);
        var images = randn(2, 3, 8, 8);
        var targets = tensor(new long[] { 1, 4 });
        (Tensor Logits, Dictionary<string, Tensor> Grads) Run(bool fast)
        {
            model.Fast = fast;
            model.zero_grad();
            var logits = model.forward(images);
            nn.functional.cross_entropy(logits, targets).backward();
            return (logits.detach(), model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone()));
        }
        var plain = Run(false);
        var quick = Run(true);
        TensorAssert.Close(plain.Logits, quick.Logits, 1e-5, "logits");
        foreach (var (name, g) in plain.Grads)
            TensorAssert.Close(g, quick.Grads[name], 1e-5, name);
    }

    [Fact]
    public void EncoderAcceptsAKeyPaddingMask()
    {
        using var scope = NewDisposeScope();
        manual_seed(11);
        using var encoder = new CrateEncoder(8, depth: 2, heads: 2, headDim: 4);
        var z = randn(1, 4, 8);
        var pad = tensor(new[] { false, false, true, true }).reshape(1, 4);
        var full = encoder.forward(z.narrow(1, 0, 2));
        var masked = encoder.forward(z, pad).narrow(1, 0, 2);
        TensorAssert.Close(full, masked, 1e-5);      // padded keys do not influence the real tokens
    }

    [Fact]
    public void MaeDecoderLayerHasReferenceNamesAndSubtractsMssa()
    {
        using var scope = NewDisposeScope();
        manual_seed(12);
        using var layer = new CrateMaeDecoderLayer(8, heads: 2, headDim: 4);
        Assert.Equal(new[] { "layers.0.0.norm.weight", "layers.0.0.norm.bias", "layers.0.0.fn.weight",
            "layers.0.1.norm.weight", "layers.0.1.norm.bias", "layers.0.1.fn.qkv.weight",
            "layers.0.1.fn.to_out.0.weight", "layers.0.1.fn.to_out.0.bias" }.Order(StringComparer.Ordinal),
            layer.state_dict().Keys.Order(StringComparer.Ordinal));
        var z = randn(2, 3, 8, requires_grad: true);
        var pair = layer.layers[0];
        var half = matmul(pair.dictionary.norm.forward(z), pair.dictionary.fn.weight.t());
        var expected = half - pair.attention.fn.forward(pair.attention.norm.forward(half));
        var y = layer.forward(z);
        TensorAssert.Close(expected, y, 1e-5);
        y.sum().backward();
        TensorAssert.AllParametersHaveGradients(layer);
    }
}
