using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>The ISTA block against hand-computed values and the fast path against the plain formula.</summary>
public class IstaTests
{
    // D = [[1, 2], [3, 4]], η = 0.01, λ = 0.5; column form z = ReLU(y + η·Dᵀ(y − D y) − η·λ).
    // y = (1, 0): D y = (1, 3), y − D y = (0, −3), Dᵀ(…) = (−9, −12) → (1 − 0.09 − 0.005, −0.12 − 0.005) = (0.905, 0).
    // y = (0, 1): D y = (2, 4), y − D y = (−2, −3), Dᵀ(…) = (−11, −16) → (−0.11 − 0.005, 1 − 0.16 − 0.005) = (0, 0.835).
    // With D and Dᵀ swapped the second row would be (0, 0.785): the test tells the two apart.
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void StepMatchesHandComputedColumnForm(bool fast)
    {
        using var scope = NewDisposeScope();
        var d = tensor(new double[] { 1, 2, 3, 4 }).reshape(2, 2);
        var y = tensor(new double[] { 1, 0, 0, 1 }).reshape(1, 2, 2);     // two tokens as rows
        var z = IstaBlock.Step(y, d, eta: 0.01, lambda: 0.5, fast: fast);
        TensorAssert.Values([0.905, 0.0, 0.0, 0.835], z, 1e-12);
    }

    [Fact]
    public void ModuleUsesItsWeightAsD()
    {
        using var scope = NewDisposeScope();
        using var block = new IstaBlock(2, eta: 0.01, lambda: 0.5);
        using (no_grad())
            block.weight.copy_(tensor(new float[] { 1, 2, 3, 4 }).reshape(2, 2));
        var z = block.forward(tensor(new float[] { 1, 0, 0, 1 }).reshape(2, 2));
        TensorAssert.Values([0.905, 0.0, 0.0, 0.835], z, 1e-6);
        Assert.Equal(["weight"], block.state_dict().Keys);
    }

    [Fact]
    public void FastPathEqualsPlainFormulaWithGradients()
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        var d = randn(24, 24) * 0.3;
        var y = randn(3, 7, 24);
        var upstream = randn(3, 7, 24);
        (Tensor Out, Tensor GradY, Tensor GradD) Run(bool fast)
        {
            var dd = d.clone().requires_grad_(true);
            var yy = y.clone().requires_grad_(true);
            var outp = IstaBlock.Step(yy, dd, 0.1, 0.1, fast);
            (outp * upstream).sum().backward();
            return (outp.detach(), yy.grad!, dd.grad!);
        }
        var plain = Run(false);
        var quick = Run(true);
        TensorAssert.Close(plain.Out, quick.Out, 1e-5, "output");
        TensorAssert.Close(plain.GradY, quick.GradY, 1e-5, "dL/dY");
        TensorAssert.Close(plain.GradD, quick.GradD, 1e-5, "dL/dD");
        Assert.True(plain.Out.eq(0).any().item<bool>() && plain.Out.gt(0).any().item<bool>(), "ReLU should be partly active");
    }

    [Fact]
    public void DictionaryInitIsKaimingUniformWithAZero()
    {
        using var scope = NewDisposeScope();
        manual_seed(2);
        using var block = new IstaBlock(384);
        double bound = Math.Sqrt(6.0 / 384);
        double max = block.weight.abs().max().item<float>();
        Assert.InRange(max, 0.95 * bound, bound);          // U(±√(6/d)), not the Linear default ±1/√d
        Assert.Equal(0.1, block.Eta);
        Assert.Equal(0.1, block.Lambda);
    }

    [Fact]
    public void OutputIsNonNegativeAndGradientFlows()
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        using var block = new IstaBlock(16);
        var y = randn(2, 5, 16, requires_grad: true);
        var z = block.forward(y);
        Assert.Equal(new long[] { 2, 5, 16 }, z.shape);
        Assert.True(z.ge(0).all().item<bool>());
        z.sum().backward();
        TensorAssert.AllParametersHaveGradients(block);
        Assert.NotNull(y.grad);
    }
}
