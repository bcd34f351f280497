using TorchSharp;

namespace Crate.Core.Training;

/// <summary>
/// Puts a module in evaluation mode (dropout off) for a <c>using</c> block and restores training mode afterwards
/// if it was on: <c>using (EvalMode.Of(model)) { ... }</c>. Evaluations, probes and samplers share it instead of
/// each saving and restoring <c>training</c> by hand.
/// </summary>
public readonly struct EvalMode : IDisposable
{
    private readonly torch.nn.Module? _module;
    private readonly bool _wasTraining;

    private EvalMode(torch.nn.Module module)
    {
        _module = module;
        _wasTraining = module.training;
        module.eval();
    }

    /// <summary>Switches <paramref name="module"/> to evaluation mode until the result is disposed.</summary>
    public static EvalMode Of(torch.nn.Module module) => new(module);

    /// <summary>Restores training mode when the module was training before.</summary>
    public void Dispose()
    {
        if (_module is not null && _wasTraining) _module.train();
    }
}

/// <summary>Counting a module's parameters, as every task reports <c>parameters</c>.</summary>
public static class ModuleParameters
{
    /// <summary>The number of scalar parameters (trainable or not) of <paramref name="module"/>.</summary>
    public static long Count(torch.nn.Module module) => module.parameters().Sum(p => p.numel());
}
