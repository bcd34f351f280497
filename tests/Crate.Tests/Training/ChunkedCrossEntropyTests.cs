using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Plugins.Gpt2;
using Crate.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Training;

/// <summary>The chunked linear head + cross-entropy against the unchunked one: same loss, same gradients.</summary>
public sealed class ChunkedCrossEntropyTests
{
    [Theory]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(7)]
    [InlineData(10)]
    [InlineData(64)]
    public void Loss_and_gradients_equal_the_unchunked_head(int chunk)
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var hiddenData = randn([2, 5, 6], float64);                                        // [B, T, d]
        var weightData = randn([11, 6], float64);                                          // [V, d]
        var target = tensor(new long[] { 3, -1, 0, 10, 2, 2, 7, -1, 1, 9 }, [2, 5]);     // [B, T], two ignored

        var (hiddenA, weightA) = (hiddenData.clone().requires_grad_(), weightData.clone().requires_grad_());
        var reference = nn.functional.cross_entropy(nn.functional.linear(hiddenA, weightA).view(-1, 11), target.view(-1), ignore_index: -1);
        (reference * 0.5).backward();

        var (hiddenB, weightB) = (hiddenData.clone().requires_grad_(), weightData.clone().requires_grad_());
        var chunked = ChunkedCrossEntropy.Loss(hiddenB, weightB, target, chunk, ignoreIndex: -1);
        (chunked * 0.5).backward();   // a scaled loss (gradient accumulation) scales the gradients

        Assert.Equal(reference.ToDouble(), chunked.ToDouble(), 12);
        TensorAssert.Close(hiddenA.grad!, hiddenB.grad!, 1e-12, "d loss / d hidden");
        TensorAssert.Close(weightA.grad!, weightB.grad!, 1e-12, "d loss / d weight");
        Assert.Equal(0.0, hiddenB.grad!.select(0, 0).select(0, 1).abs().sum().ToDouble());   // an ignored target gets no gradient
    }

    [Fact]
    public void Bf16_matmuls_stay_close_to_float32_and_return_float32()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        var hiddenData = randn([3, 16, 32]);                                               // [B, T, d]
        var weightData = randn([97, 32]) * 0.1;                                            // [V, d]
        var target = randint(0, 97, [3, 16], dtype: ScalarType.Int64);

        var (hiddenA, weightA) = (hiddenData.clone().requires_grad_(), weightData.clone().requires_grad_());
        var full = ChunkedCrossEntropy.Loss(hiddenA, weightA, target, 10);
        full.backward();
        var (hiddenB, weightB) = (hiddenData.clone().requires_grad_(), weightData.clone().requires_grad_());
        var mixed = ChunkedCrossEntropy.Loss(hiddenB, weightB, target, 10, computeType: ScalarType.BFloat16);
        mixed.backward();

        Assert.Equal(ScalarType.Float32, mixed.dtype);
        Assert.Equal(ScalarType.Float32, hiddenB.grad!.dtype);
        Assert.Equal(ScalarType.Float32, weightB.grad!.dtype);
        Assert.InRange(Math.Abs(mixed.ToDouble() - full.ToDouble()) / full.ToDouble(), 0, 0.01);
        foreach (var (a, b) in new[] { (hiddenA.grad!, hiddenB.grad!), (weightA.grad!, weightB.grad!) })
            Assert.InRange(nn.functional.cosine_similarity(a.flatten(), b.flatten(), dim: 0).ToDouble(), 0.99, 1.0001);
    }

    [Fact]
    public void Without_gradients_it_gives_the_same_loss()
    {
        using var scope = NewDisposeScope();
        manual_seed(6);
        var hidden = randn([4, 8, 5]);                                                     // [B, T, d]
        var weight = randn([13, 5]);                                                       // [V, d]
        var target = randint(0, 13, [4, 8], dtype: ScalarType.Int64);
        var reference = nn.functional.cross_entropy(nn.functional.linear(hidden, weight).view(-1, 13), target.view(-1));
        using var noGrad = no_grad();
        TensorAssert.Close(reference, ChunkedCrossEntropy.Loss(hidden, weight, target, 5), 1e-5, "loss");
    }

    [Theory]
    [InlineData(Gpt2Models.Crate)]
    [InlineData(Gpt2Models.Gpt2)]
    public void The_task_loss_trains_both_models_exactly_as_their_logits_do(string name)
    {
        var config = new GptConfig(BlockSize: 16, VocabSize: 300, NLayer: 2, NHead: 2, NEmbd: 16);
        manual_seed(7);
        using var model = Gpt2Models.Build(name, config);
        model.train();
        using var scope = NewDisposeScope();
        var x = randint(0, 300, [3, 16], dtype: ScalarType.Int64);                         // [B, T]
        var y = randint(0, 300, [3, 16], dtype: ScalarType.Int64);                         // [B, T]

        var reference = Gpt2Data.LanguageModelLoss(model.forward(x), y);
        reference.backward();
        var expected = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.grad!.clone());
        foreach (var p in model.parameters()) p.grad = null;

        var chunked = Gpt2Data.ModelLoss(model, x, y);   // 48 tokens in chunks of HeadChunkTokens; also checked with a 5-token chunk below
        chunked.backward();
        TensorAssert.Close(reference, chunked, 1e-5, "loss");
        foreach (var (parameterName, parameter) in model.named_parameters())
            TensorAssert.Close(expected[parameterName], parameter.grad!, 1e-5, parameterName);

        foreach (var p in model.parameters()) p.grad = null;
        var lm = (ILinearHeadLanguageModel)model;
        var small = ChunkedCrossEntropy.Loss(lm.Hidden(x), lm.HeadWeight, y, chunkTokens: 5, ignoreIndex: -1);
        small.backward();
        TensorAssert.Close(reference, small, 1e-5, "loss (chunks of 5)");
        foreach (var (parameterName, parameter) in model.named_parameters())
            TensorAssert.Close(expected[parameterName], parameter.grad!, 1e-5, parameterName + " (chunks of 5)");
    }

    [Fact]
    public void Bad_arguments_are_named()
    {
        using var scope = NewDisposeScope();
        Assert.Throws<ArgumentOutOfRangeException>(() => ChunkedCrossEntropy.Loss(zeros(2, 3), zeros(4, 3), zeros(2, ScalarType.Int64), 0));
        var shape = Assert.Throws<ArgumentException>(() => ChunkedCrossEntropy.Loss(zeros(2, 3), zeros(4, 5), zeros(2, ScalarType.Int64), 8));
        Assert.Contains("do not fit", shape.Message);
        Assert.Throws<ArgumentException>(() => ChunkedCrossEntropy.Loss(zeros(2, 3), zeros(4, 3), zeros(3, ScalarType.Int64), 8));
    }
}
