namespace Crate.Core.Training;

/// <summary>Compute precision of a training or evaluation step.</summary>
public enum Precision
{
    /// <summary>Everything in float32.</summary>
    Fp32,

    /// <summary>Mixed precision: matmuls and attention in bfloat16, master weights and statistics in float32.</summary>
    Bf16,
}
