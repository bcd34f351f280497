using System.Collections;
using Crate.Core.Contract;
using Crate.Core.Training;
using Crate.Plugins.Bert;
using Crate.Plugins.Dino;
using Crate.Plugins.Gpt2;
using Crate.Plugins.Mae;
using Crate.Plugins.Vit;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.DeviceTests;

/// <summary>
/// The device the tests run on, from <c>CRATE_TEST_DEVICE</c> (cpu, cuda, cuda:N; default cpu), and the tasks' smoke
/// steps they build. On the CPU the same tests exercise the same paths; only a GPU run proves the placement.
/// </summary>
internal static class DeviceUnderTest
{
    public const string Variable = "CRATE_TEST_DEVICE";

    public static string Name => Environment.GetEnvironmentVariable(Variable) is { Length: > 0 } v ? v.Trim() : "cpu";

    public static Device Device => Devices.Resolve(Name);

    public static readonly ICrateTask[] Tasks = [new VitTask(), new MaeTask(), new DinoTask(), new BertTask(), new Gpt2Task()];

    /// <summary>Every (task, model) pair.</summary>
    public static TheoryData<string, string> TaskModels()
    {
        var data = new TheoryData<string, string>();
        foreach (var t in Tasks)
            foreach (var m in t.Models) data.Add(t.Name, m.Name);
        return data;
    }

    /// <summary>Every task's CRATE model.</summary>
    public static TheoryData<string, string> CrateModels()
    {
        var data = new TheoryData<string, string>();
        foreach (var t in Tasks)
            foreach (var m in t.Models.Where(m => m.Name.StartsWith("crate", StringComparison.Ordinal))) data.Add(t.Name, m.Name);
        return data;
    }

    /// <summary>The step of <paramref name="model"/> at its task's smoke preset (same seed, same initial weights on every call).</summary>
    public static StepBenchmark Step(string task, string model)
    {
        var t = Tasks.Single(x => x.Name == task);
        var config = t.Schema.Resolve(t.Presets.Single(p => p.Name == "smoke").ValuesFor(model));
        return ((IStepBenchmark)t).CreateStepBenchmark(model, config);
    }

    /// <summary>Runs <paramref name="steps"/> steps of <paramref name="bench"/> on the device under test.</summary>
    public static List<StepReport> Train(StepBenchmark bench, int steps, Precision precision)
    {
        var reports = new List<StepReport>();
        using var context = new LocalRunContext(seed: 0) { KeepProgress = false, Device = Name };
        bench.Run(steps, precision, context, reports.Add);
        return reports;
    }

    /// <summary>Every parameter and buffer of <paramref name="modules"/>, by module index and name.</summary>
    public static IEnumerable<(string Name, Tensor Value)> State(IReadOnlyList<nn.Module> modules) =>
        modules.SelectMany((m, i) => m.state_dict().Select(kv => ($"module-{i}.{kv.Key}", kv.Value)));

    /// <summary>The tensors of a task's batch record (its Tensor properties and lists of tensors).</summary>
    public static List<Tensor> TensorsOf(object batch)
    {
        var found = new List<Tensor>();
        foreach (var p in batch.GetType().GetProperties().Where(p => p.GetIndexParameters().Length == 0))
            switch (p.GetValue(batch))
            {
                case Tensor t: found.Add(t); break;
                case IEnumerable items and not string: found.AddRange(items.OfType<Tensor>()); break;
            }
        return found;
    }

    /// <summary>True when <paramref name="t"/> lives on <paramref name="device"/> (cuda means cuda:0).</summary>
    public static bool IsOn(Tensor t, Device device) =>
        t.device_type == device.type && (device.type == DeviceType.CPU || t.device_index == Math.Max(0, device.index));
}
