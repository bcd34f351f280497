using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Plugins.Dino;
using Crate.Tests.Plugins.Bert;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>
/// bf16 mixed precision (<see cref="MixedPrecision"/>) on every model family: the loss and the gradients are close to
/// float32's, the parameters and gradients stay float32, and LayerNorm, the softmax and the loss see float32.
/// </summary>
public class MixedPrecisionTests
{
    /// <summary>A model family: the model and its loss on a fixed batch.</summary>
    public sealed record Family(string Name, Func<nn.Module> Build, Func<nn.Module, Tensor> Loss)
    {
        /// <inheritdoc/>
        public override string ToString() => Name;
    }

    private static Tensor Images(long b, int size) => randn(new long[] { b, 1, size, size }, generator: new Generator(3));

    private static Tensor Tokens(long b, long t, int vocab, int low = 0) => randint(low, vocab, new long[] { b, t }, generator: new Generator(4));

    private static Tensor Labels(long b, int classes) => randint(0, classes, new long[] { b }, generator: new Generator(5));

    private static Tensor TokenLoss(Tensor logits, Tensor targets) =>
        Losses.CrossEntropy(logits.reshape(-1, logits.shape[^1]), targets.reshape(-1));   // [B·T, V] vs [B·T]

    private static readonly GptConfig Gpt = new(BlockSize: 8, VocabSize: 30, NLayer: 2, NHead: 2, NEmbd: 16);

    private static Family Mae(MaeKind kind) => new($"mae-{kind}".ToLowerInvariant(),
        () => kind == MaeKind.Crate ? new CrateMae(new MaeConfig(kind, 32, 2, 2, 32, 1, 2, 8, 4, 1))
                                    : new MaeVit(new MaeConfig(kind, 32, 2, 2, 16, 1, 2, 8, 4, 1)),
        m =>
        {
            var model = (IMaskedAutoencoder)m;
            using var mask = MaeMask.Random(4, 4, 0.5, CPU, new Generator(6));
            return model.Forward(Images(4, 8), mask).Loss;
        });

    private static Family Bert(bool crate) => new(crate ? "crate-bert" : "bert",
        () => crate ? new CrateBertForMaskedLM(BertFixtureTests.CrateShape) : new BertForMaskedLM(BertFixtureTests.BertShape),
        m =>
        {
            var model = (IMaskedLanguageModel)m;
            var ids = Tokens(2, 8, 40, low: 2);
            return TokenLoss(model.Logits(model.Encode(ids, null)), Tokens(2, 8, 40));
        });

    /// <summary>Every family the harness trains.</summary>
    public static TheoryData<Family> Families() =>
    [
        new Family("crate", () => new CrateClassifier(new CrateConfig(32, 2, 2, 8, 4, 1, 3)),
            m => Losses.CrossEntropy(((CrateClassifier)m).forward(Images(4, 8)), Labels(4, 3))),
        new Family("vit", () => new VisionTransformer(new VitConfig(32, 2, 2, 8, 4, 1, 3)),
            m => Losses.CrossEntropy(((VisionTransformer)m).forward(Images(4, 8)), Labels(4, 3))),
        new Family("gpt2", () => new Gpt2Model(Gpt), m => TokenLoss(((Gpt2Model)m).forward(Tokens(2, 8, 30)), Tokens(2, 8, 30))),
        new Family("crate-gpt", () => new CrateGptModel(Gpt), m => TokenLoss(((CrateGptModel)m).forward(Tokens(2, 8, 30)), Tokens(2, 8, 30))),
        Mae(MaeKind.Crate),
        Mae(MaeKind.Vit),
        Bert(crate: false),
        Bert(crate: true),
        new Family("dino-head", () => new DinoHead(16, 32, 8, 20, normLastLayer: true), m =>
        {
            var scores = ((DinoHead)m).forward(randn(new long[] { 4, 16 }, generator: new Generator(7)));   // [B, K]
            var teacher = nn.functional.softmax(randn(new long[] { 4, 20 }, generator: new Generator(8)), -1);
            return -(teacher * nn.functional.log_softmax(scores / 0.1, -1)).sum(-1).mean();
        }),
    ];

    private static (double Loss, Tensor Grad) LossAndGradient(nn.Module model, Family family)
    {
        foreach (var p in model.parameters()) p.grad = null;
        var loss = family.Loss(model);
        Assert.Equal(ScalarType.Float32, loss.dtype);
        loss.backward();
        var grads = model.parameters().Where(p => p.grad is not null).Select(p =>
        {
            Assert.Equal(ScalarType.Float32, p.dtype);
            Assert.Equal(ScalarType.Float32, p.grad!.dtype);
            return p.grad.flatten();
        }).ToList();
        return (loss.ToDouble(), cat(grads).detach());
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Bf16LossAndGradientsAreCloseToFp32AndEverythingStoredStaysFloat32(Family family)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var model = family.Build();
        model.eval();   // no dropout: both passes see the same function
        var (loss32, grad32) = LossAndGradient(model, family);

        int aware = MixedPrecision.Apply(model, Precision.Bf16);
        Assert.True(aware > 0, $"{family.Name} has no precision-aware sub-block");
        var (loss16, grad16) = LossAndGradient(model, family);

        Assert.True(Math.Abs(loss16 - loss32) <= 0.02 * Math.Abs(loss32) + 1e-3, $"{family.Name}: loss bf16 {loss16} vs fp32 {loss32}");
        Assert.NotEqual(loss32, loss16);   // the products did run in bfloat16
        double cosine = (grad16 * grad32).sum().ToDouble() / (grad16.norm().ToDouble() * grad32.norm().ToDouble());
        double normRatio = grad16.norm().ToDouble() / grad32.norm().ToDouble();
        Assert.True(cosine > 0.99, $"{family.Name}: gradient cosine {cosine}");
        Assert.InRange(normRatio, 0.95, 1.05);

        MixedPrecision.Apply(model, Precision.Fp32);   // and back: fp32 again exactly
        Assert.Equal(loss32, LossAndGradient(model, family).Loss);
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void EveryBlockKeepsTheResidualStreamInFloat32UnderBf16(Family family)
    {
        // The LayerNorms see only a block's input or the residual sum inside it, so a float32 stream in and out of
        // every block (and of every precision-aware sub-block) means the norms normalise float32.
        using var scope = NewDisposeScope();
        manual_seed(1);
        var model = family.Build();
        model.eval();
        MixedPrecision.Apply(model, Precision.Bf16);
        var blocks = model.modules().Prepend(model).Distinct(ReferenceEqualityComparer.Instance).OfType<nn.Module<Tensor, Tensor>>()
            .Where(m => m is IMixedPrecision || m.modules().Any(c => c is IMixedPrecision))
            .Where(m => m.modules().OfType<LayerNorm>().Any() || m is IMixedPrecision)
            .Where(m => !ReferenceEquals(m, model) || model is DinoHead)   // the models themselves take images or ids
            .ToList();
        Assert.NotEmpty(blocks);
        foreach (var block in blocks)
        {
            long width = block.parameters().First(p => p.dim() == 2).shape[1];                // in-features of its first matrix
            var x = randn(2, 5, width);                                                // [B, n, d]
            var y = block.forward(x);
            Assert.True(y.dtype == ScalarType.Float32, $"{family.Name}: {block.GetName()} returned {y.dtype}");
        }
    }

    [Fact]
    public void SoftmaxOfBf16LogitsUsesFloat32StatisticsAndKeepsTheType()
    {
        var logits = (randn(new long[] { 3, 50 }, generator: new Generator(2)) * 30).to_type(ScalarType.BFloat16);
        var p = MixedPrecision.Softmax(logits, -1);
        Assert.Equal(ScalarType.BFloat16, p.dtype);
        var expected = nn.functional.softmax(logits.to_type(ScalarType.Float32), -1).to_type(ScalarType.BFloat16);
        Assert.True(p.to_type(ScalarType.Float32).allclose(expected.to_type(ScalarType.Float32), 0, 0));
        var plain = randn(4, 5);
        Assert.True(MixedPrecision.Softmax(plain, -1).allclose(nn.functional.softmax(plain, -1), 0, 0));
    }

    [Fact]
    public void HelpersAreThePlainFloat32OperationsWithoutAComputeType()
    {
        var linear = nn.Linear(6, 4);
        var x = randn(3, 6);
        Assert.True(MixedPrecision.Linear(linear, x, null).allclose(linear.forward(x), 0, 0));
        var y = MixedPrecision.Linear(linear, x, ScalarType.BFloat16);
        Assert.Equal(ScalarType.BFloat16, y.dtype);
        Assert.Equal(ScalarType.Float32, MixedPrecision.Out(y, ScalarType.BFloat16).dtype);
        Assert.Same(x, MixedPrecision.Out(x, ScalarType.BFloat16));
        Assert.Same(x, MixedPrecision.In(x, null));
        Assert.Null(MixedPrecision.ComputeTypeOf(Precision.Fp32));
        Assert.Equal(ScalarType.BFloat16, MixedPrecision.ComputeTypeOf(Precision.Bf16));
    }
}
