using Crate.Core.Modules;
using Crate.Core.Training;
using Crate.Core.WhiteBox;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.DeviceTests;

/// <summary>
/// Every task's training step on the device under test (<see cref="DeviceUnderTest"/>: CRATE_TEST_DEVICE, default cpu),
/// both models, at the smoke presets: where modules and batches live, the bf16 path, checkpoints across devices and the
/// white-box metrics. <c>scripts/gpu-check</c> runs them with <c>CRATE_TEST_DEVICE=cuda</c> from the published bundle.
/// </summary>
[Trait("Category", "cuda")]
public sealed class DeviceTests
{
    public static TheoryData<string, string> TaskModels => DeviceUnderTest.TaskModels();

    public static TheoryData<string, string> CrateModels => DeviceUnderTest.CrateModels();

    [Fact]
    public void The_device_asked_for_is_the_one_used()
    {
        using var scope = NewDisposeScope();
        var device = DeviceUnderTest.Device;
        if (device.type == DeviceType.CUDA) Assert.True(cuda.is_available() && cuda.device_count() > device.index);
        var a = randn([64, 64], generator: new Generator(1, CPU)).to(device);
        var product = matmul(a.to_type(ScalarType.BFloat16), a.to_type(ScalarType.BFloat16)).to_type(ScalarType.Float32);
        Assert.True(DeviceUnderTest.IsOn(product, device));
        var reference = matmul(a.cpu().to(ScalarType.Float64), a.cpu().to(ScalarType.Float64));
        // bf16 keeps 8 significant bits: a 64-term product of N(0, 1) entries is off by a few percent of its scale (8) at most.
        double error = (product.cpu().to(ScalarType.Float64) - reference).abs().max().item<double>();
        Assert.InRange(error, 0, 1.0);
    }

    [Theory]
    [MemberData(nameof(TaskModels))]
    public void Modules_and_batches_live_on_the_device(string task, string model)
    {
        using var scope = NewDisposeScope();
        var device = DeviceUnderTest.Device;
        using var bench = DeviceUnderTest.Step(task, model);
        var reports = DeviceUnderTest.Train(bench, 1, Precision.Fp32);
        Assert.True(double.IsFinite(reports.Single().Loss), $"loss {reports.Single().Loss}");

        var state = DeviceUnderTest.State(bench.Modules).ToList();
        Assert.NotEmpty(state);
        var elsewhere = state.Where(s => !DeviceUnderTest.IsOn(s.Value, device)).Select(s => $"{s.Name} on {s.Value.device}").ToList();
        Assert.True(elsewhere.Count == 0, $"not on {device}: {string.Join(", ", elsewhere.Take(5))}");

        var batch = DeviceUnderTest.TensorsOf(bench.Batch(0, device));
        Assert.NotEmpty(batch);
        Assert.All(batch, t => Assert.True(DeviceUnderTest.IsOn(t, device), $"a batch tensor [{string.Join(", ", t.shape)}] is on {t.device}"));
    }

    [Theory]
    [MemberData(nameof(TaskModels))]
    public void A_bf16_step_keeps_float32_weights_and_agrees_with_fp32(string task, string model)
    {
        using var scope = NewDisposeScope();
        double fp32Loss, bf16Loss;
        using (var bench = DeviceUnderTest.Step(task, model))
            fp32Loss = DeviceUnderTest.Train(bench, 1, Precision.Fp32).Single().Loss;
        using (var bench = DeviceUnderTest.Step(task, model))
        {
            var reports = DeviceUnderTest.Train(bench, 2, Precision.Bf16);
            Assert.All(reports, r => Assert.True(double.IsFinite(r.Loss) && double.IsFinite(r.GradNorm) && r.GradNorm > 0,
                $"step {r.Step}: loss {r.Loss}, gradient norm {r.GradNorm}"));
            bf16Loss = reports[0].Loss;
            var aware = bench.Modules.SelectMany(m => m.modules().Prepend(m)).OfType<IMixedPrecision>().ToList();
            Assert.NotEmpty(aware);
            Assert.All(aware, a => Assert.Equal(ScalarType.BFloat16, a.ComputeType));
            var floats = DeviceUnderTest.State(bench.Modules).Where(s => s.Value.is_floating_point()).ToList();
            Assert.All(floats, s => Assert.True(s.Value.dtype == ScalarType.Float32, $"{s.Name} is {s.Value.dtype}"));
        }
        // The same weights and batch: the bf16 products change the first loss by a rounding error, not more.
        Assert.True(Math.Abs(bf16Loss - fp32Loss) <= 0.02 * Math.Abs(fp32Loss) + 1e-3, $"first loss fp32 {fp32Loss}, bf16 {bf16Loss}");
    }

    [Theory]
    [MemberData(nameof(TaskModels))]
    public void A_checkpoint_written_on_the_device_reads_on_the_cpu_and_back(string task, string model)
    {
        using var scope = NewDisposeScope();
        var device = DeviceUnderTest.Device;
        string folder = Directory.CreateTempSubdirectory("crate-device-checkpoint-").FullName;
        try
        {
            using var trained = DeviceUnderTest.Step(task, model);
            DeviceUnderTest.Train(trained, 1, Precision.Fp32);                       // weights moved off their initial values, on the device
            for (int i = 0; i < trained.Modules.Count; i++)
                ModuleState.Save(trained.Modules[i], Path.Combine(folder, $"device-{i}.bin"));
            var expected = DeviceUnderTest.State(trained.Modules).ToDictionary(s => s.Name, s => s.Value.cpu());

            using var onCpu = DeviceUnderTest.Step(task, model);                     // fresh initial weights, on the CPU
            for (int i = 0; i < onCpu.Modules.Count; i++)
                ModuleState.Load(onCpu.Modules[i], Path.Combine(folder, $"device-{i}.bin"));
            AssertSame(expected, onCpu.Modules, CPU);
            for (int i = 0; i < onCpu.Modules.Count; i++)
                ModuleState.Save(onCpu.Modules[i], Path.Combine(folder, $"cpu-{i}.bin"));

            using var back = DeviceUnderTest.Step(task, model);                      // fresh again, moved to the device
            foreach (var m in back.Modules) m.to(device);
            for (int i = 0; i < back.Modules.Count; i++)
                ModuleState.Load(back.Modules[i], Path.Combine(folder, $"cpu-{i}.bin"));
            AssertSame(expected, back.Modules, device);
        }
        finally
        {
            Directory.Delete(folder, recursive: true);
        }
    }

    [Theory]
    [MemberData(nameof(CrateModels))]
    public void White_box_metrics_on_the_device_match_the_cpu(string task, string model)
    {
        using var scope = NewDisposeScope();
        var device = DeviceUnderTest.Device;
        using var bench = DeviceUnderTest.Step(task, model);
        var network = bench.Modules[0];
        network.eval();
        // The first stack of CRATE layers of one width (the encoder; a CRATE-MAE decoder is narrower), Z¹ random.
        var layers = network.modules().OfType<ICrateLayer>().ToList();
        Assert.NotEmpty(layers);
        long width = Width(layers[0]);
        layers = layers.TakeWhile(l => Width(l) == width).ToList();
        var z1 = randn([3, 9, width], generator: new Generator(7, CPU));

        var onCpu = WhiteBoxProbe.Measure(layers, z1, "cpu");
        network.to(device);
        var onDevice = WhiteBoxProbe.Measure(layers, z1.to(device), "device");

        Assert.Equal(onCpu.Select(r => (r.Layer, r.Measure)), onDevice.Select(r => (r.Layer, r.Measure)));
        Assert.Contains(onDevice, r => r.Measure == WhiteBoxMeasures.Rc);
        Assert.Contains(onDevice, r => r.Measure == WhiteBoxMeasures.ZeroFraction);
        foreach (var (c, d) in onCpu.Zip(onDevice))
        {
            Assert.True(double.IsFinite(d.Mean), $"layer {d.Layer} {d.Measure}: {d.Mean}");
            // Rates are logdets of float32 layer outputs (float32 kernels differ by ~1e-6 relative between devices);
            // sparsity counts exact zeros, where a value at the ReLU threshold may fall either way.
            double tolerance = d.Measure is WhiteBoxMeasures.ZeroFraction or WhiteBoxMeasures.Nonzero ? 0.02 : 1e-3 * Math.Max(1, Math.Abs(c.Mean));
            Assert.True(Math.Abs(c.Mean - d.Mean) <= tolerance, $"layer {d.Layer} {d.Measure}: cpu {c.Mean}, {device} {d.Mean}");
        }
    }

    /// <summary>The width d of a CRATE layer: the length of its first vector parameter (its first LayerNorm's weight).</summary>
    private static long Width(ICrateLayer layer) =>
        ((nn.Module)layer).parameters().First(p => p.dim() == 1).shape[0];

    private static void AssertSame(Dictionary<string, Tensor> expected, IReadOnlyList<nn.Module> modules, Device device)
    {
        var actual = DeviceUnderTest.State(modules).ToList();
        Assert.Equal(expected.Keys.Order(), actual.Select(a => a.Name).Order());
        foreach (var (name, value) in actual)
        {
            Assert.True(DeviceUnderTest.IsOn(value, device), $"{name} is on {value.device}, not {device}");
            Assert.True(expected[name].eq(value.cpu()).all().item<bool>(), $"{name} differs after the round trip");
        }
    }
}
