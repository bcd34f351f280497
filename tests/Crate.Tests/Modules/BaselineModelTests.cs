using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>ViT, GPT-2, CRATE-GPT, BERT and CRATE-BERT: names, shapes, gradients, masking, fast paths.</summary>
public class BaselineModelTests
{
    private static readonly VitConfig TinyVit = new(Dim: 16, Depth: 2, Heads: 2, ImageSize: 8, PatchSize: 4, Channels: 3, NumClasses: 5);
    private static readonly GptConfig TinyGpt = new(BlockSize: 8, VocabSize: 40, NLayer: 2, NHead: 2, NEmbd: 16);
    private static readonly BertConfig TinyBert = new(HiddenSize: 16, NumHeads: 2, IntermediateSize: 32, HiddenDropout: 0, AttentionDropout: 0);

    [Fact]
    public void VitHasTimmNamesShapesAndGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(20);
        using var vit = new VisionTransformer(TinyVit);
        var keys = vit.state_dict().Keys.ToHashSet();
        foreach (var k in new[] { "patch_embed.proj.weight", "patch_embed.proj.bias", "cls_token", "pos_embed",
                     "blocks.1.norm1.weight", "blocks.1.attn.qkv.weight", "blocks.1.attn.qkv.bias", "blocks.1.attn.proj.weight",
                     "blocks.1.norm2.bias", "blocks.1.mlp.fc1.weight", "blocks.1.mlp.fc2.bias", "fc_norm.weight", "head.weight", "head.bias" })
            Assert.Contains(k, keys);
        Assert.DoesNotContain("norm.weight", keys);
        Assert.Equal(new long[] { 64, 16 }, vit.state_dict()["blocks.0.mlp.fc1.weight"].shape);
        var logits = vit.forward(randn(2, 3, 8, 8));
        Assert.Equal(new long[] { 2, 5 }, logits.shape);
        logits.sum().backward();
        TensorAssert.AllParametersHaveGradients(vit);
    }

    [Fact]
    public void TruncNormalSamplesATruncatedNormal()
    {
        using var scope = NewDisposeScope();
        manual_seed(27);
        var wide = ModuleInit.TruncNormal(empty(20000), std: 0.02);          // bounds ±2 are 100σ away: plain N(0, 0.02²)
        Assert.InRange(wide.std().item<float>(), 0.019, 0.021);
        var narrow = ModuleInit.TruncNormal(empty(20000), a: -1, b: 1);       // N(0, 1) cut at ±1: std 0.5379
        Assert.InRange(narrow.std().item<float>(), 0.52, 0.555);
        Assert.True(narrow.abs().max().item<float>() <= 1f);
    }

    [Fact]
    public void VitPoolsPatchTokensWithoutClsThroughFcNormTwice()
    {
        using var scope = NewDisposeScope();
        manual_seed(21);
        using var vit = new VisionTransformer(TinyVit);
        var images = randn(2, 3, 8, 8);
        var sd = vit.state_dict();
        var x = nn.functional.conv2d(images, sd["patch_embed.proj.weight"], sd["patch_embed.proj.bias"], strides: [4, 4])
            .flatten(2).transpose(1, 2);                                                    // [B, 4, d]
        x = cat([sd["cls_token"].expand(2, 1, 16), x], 1) + sd["pos_embed"];
        foreach (var block in Enumerable.Range(0, 2))
            x = ((nn.Module<Tensor, Tensor>)vit.named_modules().First(m => m.name == $"blocks.{block}").module).forward(x);
        Tensor FcNorm(Tensor t) => nn.functional.layer_norm(t, [16], sd["fc_norm.weight"], sd["fc_norm.bias"], 1e-6);
        var pooled = FcNorm(FcNorm(x.narrow(1, 1, 4).mean([1])));
        var expected = nn.functional.linear(pooled, sd["head.weight"], sd["head.bias"]);
        TensorAssert.Close(expected, vit.forward(images), 1e-5);
    }

    [Fact]
    public void VitFastAndPlainAgree()
    {
        using var scope = NewDisposeScope();
        manual_seed(22);
        using var vit = new VisionTransformer(TinyVit);
        var images = randn(2, 3, 8, 8);
        vit.Fast = false;
        var plain = vit.forward(images).detach();
        vit.Fast = true;
        TensorAssert.Close(plain, vit.forward(images), 1e-5);
    }

    [Fact]
    public void Gpt2HasNanoGptNamesTiedHeadAndIsCausal()
    {
        using var scope = NewDisposeScope();
        manual_seed(23);
        using var gpt = new Gpt2Model(TinyGpt);
        var keys = gpt.state_dict().Keys.ToHashSet();
        foreach (var k in new[] { "transformer.wte.weight", "transformer.wpe.weight", "transformer.h.0.ln_1.weight",
                     "transformer.h.0.attn.c_attn.weight", "transformer.h.0.attn.c_attn.bias", "transformer.h.0.attn.c_proj.weight",
                     "transformer.h.1.ln_2.bias", "transformer.h.1.mlp.c_fc.weight", "transformer.h.1.mlp.c_proj.bias",
                     "transformer.ln_f.weight" })
            Assert.Contains(k, keys);
        double cProjStd = gpt.state_dict()["transformer.h.0.mlp.c_proj.weight"].std().item<float>();
        Assert.InRange(cProjStd, 0.5 * 0.01, 1.5 * 0.01);                        // 0.02/√(2·2) = 0.01

        var idx = randint(0, 40, [2, 8]);
        var logits = gpt.forward(idx);
        Assert.Equal(new long[] { 2, 8, 40 }, logits.shape);
        var changed = idx.clone();
        changed[.., 5] = (changed[.., 5] + 1) % 40;                                // change a later token
        TensorAssert.Close(logits.narrow(1, 0, 5), gpt.forward(changed).narrow(1, 0, 5), 1e-5);
        nn.functional.cross_entropy(logits.view(-1, 40), idx.view(-1)).backward();
        TensorAssert.AllParametersHaveGradients(gpt);
        gpt.Fast = false;
        TensorAssert.Close(logits.detach(), gpt.forward(idx), 1e-5);
    }

    [Fact]
    public void CrateGptHasReferenceNamesNoFinalNormAndIsCausal()
    {
        using var scope = NewDisposeScope();
        manual_seed(24);
        using var model = new CrateGptModel(TinyGpt);
        var expected = new List<string> { "transformer.wte.weight", "transformer.wpe.weight" };
        for (int i = 0; i < 2; i++)
            expected.AddRange(new[] { "prenorm_1.weight", "prenorm_1.bias", "attn.c_attn.weight", "attn.c_proj.weight",
                "attn.c_proj.bias", "prenorm_2.weight", "prenorm_2.bias", "ista.weight" }.Select(s => $"transformer.h.{i}.{s}"));
        Assert.Equal(expected.Order(StringComparer.Ordinal), model.state_dict().Keys.Order(StringComparer.Ordinal));
        Assert.Equal(TinyGpt.CrateGptParameterCount(), ModuleInit.CountParameters(model));

        var idx = randint(0, 40, [2, 8]);
        var logits = model.forward(idx);
        Assert.Equal(new long[] { 2, 8, 40 }, logits.shape);
        var changed = idx.clone();
        changed[.., 6] = (changed[.., 6] + 3) % 40;
        TensorAssert.Close(logits.narrow(1, 0, 6), model.forward(changed).narrow(1, 0, 6), 1e-5);
        nn.functional.cross_entropy(logits.view(-1, 40), idx.view(-1)).backward();
        TensorAssert.AllParametersHaveGradients(model);
        model.Fast = false;
        TensorAssert.Close(logits.detach(), model.forward(idx), 1e-5);
    }

    [Fact]
    public void BertLayerHasHfNamesAndIgnoresPaddedKeys()
    {
        using var scope = NewDisposeScope();
        manual_seed(25);
        using var layer = new BertLayer(TinyBert);
        Assert.Equal(new[] { "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
            "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
            "attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
            "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
            "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias" }.Order(StringComparer.Ordinal),
            layer.state_dict().Keys.Order(StringComparer.Ordinal));
        var x = randn(1, 5, 16, requires_grad: true);
        var pad = tensor(new[] { false, false, false, true, true }).reshape(1, 5);
        var y = layer.forward(x, pad);
        Assert.Equal(new long[] { 1, 5, 16 }, y.shape);
        TensorAssert.Close(layer.forward(x.narrow(1, 0, 3)), y.narrow(1, 0, 3), 1e-5);
        layer.Fast = false;
        TensorAssert.Close(y, layer.forward(x, pad), 1e-5);
        y.sum().backward();
        Assert.NotNull(x.grad);
    }

    [Fact]
    public void CrateBertLayerHasPortNamesAndComputesMssaThenIsta()
    {
        using var scope = NewDisposeScope();
        manual_seed(26);
        using var layer = new CrateBertLayer(TinyBert);
        Assert.Equal(new[] { "attention.self.prenorm.weight", "attention.self.prenorm.bias", "attention.self.qkv.weight",
            "attention.output.dense.weight", "output.weight", "output.prenorm.weight", "output.prenorm.bias" }.Order(StringComparer.Ordinal),
            layer.state_dict().Keys.Order(StringComparer.Ordinal));
        var x = randn(2, 4, 16, requires_grad: true);
        var w = layer.Project(x);
        var half = x + layer.attention.output.dense.forward(SubspaceAttention.Attend(w, 2, fast: false));
        var expected = IstaBlock.Step(layer.output.prenorm.forward(half), layer.output.weight, 0.1, 0.1, fast: false);
        var y = layer.forward(x);
        TensorAssert.Close(expected, y, 1e-5);
        y.sum().backward();
        TensorAssert.AllParametersHaveGradients(layer);
    }
}
