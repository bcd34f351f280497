using Crate.Plugins.Dino;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Dino;

/// <summary>
/// The DINO loss on a hand-worked example (1 image, 2 global + 1 local view, K = 2): student logits are chosen as
/// τ_s·ln(p) and teacher outputs as c + τ_t·ln(p), so every softmax is a round number; same-view pairs skipped,
/// centring and both temperatures show in the result. Then the centre update and the schedules.
/// </summary>
public class DinoLossTests
{
    private const double StudentTemp = 0.1, TeacherTemp = 0.05;
    private static readonly double[] Centre = [0.3, 0.1];

    /// <summary>Student views: softmax = [1/4, 3/4], [1/2, 1/2], [3/4, 1/4]. Teacher views: softmax((t − c)/τ_t) = [1/5, 4/5], [1/2, 1/2].</summary>
    private static (Tensor Student, Tensor Teacher) Outputs()
    {
        double L(double x) => Math.Log(x);
        var student = tensor(new[]
        {
            StudentTemp * L(1), StudentTemp * L(3),
            StudentTemp * L(1), StudentTemp * L(1),
            StudentTemp * L(3), StudentTemp * L(1),
        }.Select(v => (float)v).ToArray(), [3, 2]).requires_grad_(true);                                               // [V·B, K] = [3, 2]
        var teacher = tensor(new[]
        {
            Centre[0] + TeacherTemp * L(1), Centre[1] + TeacherTemp * L(4),
            Centre[0] + TeacherTemp * L(1), Centre[1] + TeacherTemp * L(1),
        }.Select(v => (float)v).ToArray(), [2, 2]);                                                                    // [2B, K] = [2, 2]
        return (student, teacher);
    }

    private static DinoLoss NewLoss()
    {
        var loss = new DinoLoss(2, StudentTemp, centerMomentum: 0.9);
        using var noGrad = no_grad();
        loss.Center.copy_(tensor(Centre.Select(c => (float)c).ToArray(), [1, 2]));
        return loss;
    }

    private static double CrossEntropy(double[] p, double[] q) => -(p[0] * Math.Log(q[0]) + p[1] * Math.Log(q[1]));

    [Fact]
    public void LossMatchesTheHandWorkedExample()
    {
        using var loss = NewLoss();
        var (student, teacher) = Outputs();
        var value = loss.Compute(student, teacher, TeacherTemp);

        double[] t0 = [0.2, 0.8], t1 = [0.5, 0.5];
        double[] s0 = [0.25, 0.75], s1 = [0.5, 0.5], s2 = [0.75, 0.25];
        // Pairs (teacher view, student view) with different views: (0,1), (0,2), (1,0), (1,2); (0,0) and (1,1) are skipped.
        double expected = (CrossEntropy(t0, s1) + CrossEntropy(t0, s2) + CrossEntropy(t1, s0) + CrossEntropy(t1, s2)) / 4;
        Assert.Equal(0.883424, expected, 5);                                                    // ln2, 1.166572, 0.836988 twice
        Assert.Equal(expected, value.Loss.ToDouble(), 5);

        // What a wrong implementation would give instead.
        double withSameView = (expected * 4 + CrossEntropy(t0, s0) + CrossEntropy(t1, s1)) / 6;
        Assert.NotEqual(withSameView, value.Loss.ToDouble(), 3);

        double entropy = (CrossEntropy(t0, t0) + CrossEntropy(t1, t1)) / 2;
        Assert.Equal(entropy, value.TeacherEntropy, 5);
        Assert.Equal(expected - entropy, value.Kl, 5);
        Assert.Equal(CrossEntropy([0.35, 0.65], [0.35, 0.65]), value.MarginalEntropy, 5);

        // The loss has a gradient for the student only.
        value.Loss.backward();
        Assert.NotNull(student.grad);
        Assert.True(student.grad!.abs().sum().ToDouble() > 0);
    }

    [Fact]
    public void WithoutTheCentreOrWithSwappedTemperaturesTheLossDiffers()
    {
        using var loss = NewLoss();
        var (student, teacher) = Outputs();
        double centred = loss.Compute(student, teacher, TeacherTemp).Loss.ToDouble();
        loss.DiscardPending();
        using (no_grad()) loss.Center.zero_();
        Assert.NotEqual(centred, loss.Compute(student, teacher, TeacherTemp).Loss.ToDouble(), 3);
        loss.DiscardPending();
        using var swapped = new DinoLoss(2, TeacherTemp, 0.9);
        using (no_grad()) swapped.Center.copy_(tensor(Centre.Select(c => (float)c).ToArray(), [1, 2]));
        Assert.NotEqual(centred, swapped.Compute(student, teacher, StudentTemp).Loss.ToDouble(), 3);
    }

    [Fact]
    public void TheCentreMovesOncePerStepWithTheMeanOfEveryMicroBatch()
    {
        using var loss = NewLoss();
        var (student, teacher) = Outputs();
        loss.Compute(student, teacher, TeacherTemp);
        Assert.Equal(Centre.Select(c => (float)c), loss.Center.data<float>().ToArray());         // not moved by the loss itself
        loss.Compute(student, teacher + 1.0, TeacherTemp);                                     // a second micro-batch, shifted by 1
        loss.UpdateCenter();

        // Mean of the 4 teacher rows: c + [0, τ_t·ln4/2] + 1/2; c ← 0.9·c + 0.1·mean.
        double[] mean = [Centre[0] + 0.5, Centre[1] + TeacherTemp * Math.Log(4) / 2 + 0.5];
        var centre = loss.Center.data<float>().ToArray();
        Assert.Equal(0.9 * Centre[0] + 0.1 * mean[0], centre[0], 6);
        Assert.Equal(0.9 * Centre[1] + 0.1 * mean[1], centre[1], 6);

        loss.UpdateCenter();                                                                    // nothing pending: unchanged
        Assert.Equal(centre, loss.Center.data<float>().ToArray());
        Assert.Contains("center", loss.state_dict().Keys);                                      // checkpoints carry it
    }

    [Fact]
    public void TeacherOutputsThatAreNotTwoViewsOfTheBatchAreRejected()
    {
        using var loss = NewLoss();
        var e = Assert.Throws<ArgumentException>(() => loss.Compute(zeros(3, 2), zeros(3, 2), 0.04));
        Assert.Contains("2 views", e.Message);
    }

    [Theory]
    [InlineData(0, 0.04)]
    [InlineData(1, 0.055)]
    [InlineData(2, 0.07)]
    [InlineData(7, 0.07)]
    public void TeacherTemperatureIsDinosLinspaceThenConstant(int epoch, double expected) =>
        Assert.Equal(expected, DinoSchedules.TeacherTemperature(epoch, 0.04, 0.07, 3), 12);

    [Fact]
    public void TeacherTemperatureWithoutWarmUpAndMomentumOnItsCosine()
    {
        Assert.Equal(0.07, DinoSchedules.TeacherTemperature(0, 0.04, 0.07, 0));
        Assert.Equal(0.04, DinoSchedules.TeacherTemperature(0, 0.04, 0.07, 1));
        Assert.Equal(0.996, DinoSchedules.TeacherMomentum(0, 100, 0.996), 12);
        Assert.Equal(0.998, DinoSchedules.TeacherMomentum(50, 100, 0.996), 12);
        Assert.Equal(1.0, DinoSchedules.TeacherMomentum(100, 100, 0.996), 12);
        Assert.True(DinoSchedules.TeacherMomentum(30, 100, 0.996) < DinoSchedules.TeacherMomentum(31, 100, 0.996));
    }

    [Fact]
    public void CollapseIsFlaggedForAUniformTeacherOrOneSharedPrototypeOnly()
    {
        double logK = Math.Log(64);
        Assert.Null(DinoCollapse.Check(teacherEntropy: 1.5, marginalEntropy: 3.0, outDim: 64));         // sharp per image, spread over prototypes
        Assert.Contains("uniform", DinoCollapse.Check(0.97 * logK, 0.99 * logK, 64));                 // every distribution near uniform
        Assert.Contains("one prototype", DinoCollapse.Check(0.01, 0.05 * logK, 64));                  // every image on the same prototype
        Assert.NotNull(DinoCollapse.Check(double.NaN, 1, 64));
    }
}
