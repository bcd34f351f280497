namespace Crate.Core.Training;

/// <summary>
/// Multipliers of one parameter's learning rate and weight decay (the schedule's value times the scale), as
/// parameter groups with their own <c>lr_scale</c> give them in MAE's and BEiT's fine-tuning code.
/// </summary>
/// <param name="LearningRate">Multiplier of the scheduled learning rate.</param>
/// <param name="WeightDecay">Multiplier of the (scheduled) weight decay; applies to decayed parameters only.</param>
public readonly record struct ParameterScale(double LearningRate = 1, double WeightDecay = 1)
{
    /// <summary>No scaling.</summary>
    public static ParameterScale One => new(1, 1);

    /// <summary>
    /// Layer-wise learning-rate decay (BEiT; MAE's <c>param_groups_lrd</c>): with <paramref name="layers"/>
    /// blocks, a parameter of layer id i (0 for the embeddings, 1 … L for the blocks, L + 1 for everything after
    /// them such as the final norm and the head) trains at lr · decay^(L + 1 − i). <paramref name="layerOf"/>
    /// maps a state_dict name to its layer id.
    /// </summary>
    public static Func<string, TorchSharp.Modules.Parameter, ParameterScale> LayerDecay(int layers, double decay, Func<string, int> layerOf)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(layers);
        if (decay is <= 0 or > 1) throw new ArgumentOutOfRangeException(nameof(decay), decay, "layer decay must be in (0, 1]");
        return (name, _) =>
        {
            int id = layerOf(name);
            if (id < 0 || id > layers + 1)
                throw new TrainerConfigException($"parameter '{name}' was mapped to layer {id}, outside 0 … {layers + 1}");
            return new ParameterScale(Math.Pow(decay, layers + 1 - id));
        };
    }
}
