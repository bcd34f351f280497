using static TorchSharp.torch;

namespace Crate.Core.Training;

/// <summary>Turns a device option (<c>auto</c>, <c>cpu</c>, <c>cuda</c>, <c>cuda:1</c>) into a torch device.</summary>
public static class Devices
{
    /// <summary><c>auto</c> is <c>cuda</c> when <c>torch.cuda.is_available()</c>, else <c>cpu</c>.</summary>
    public static Device Resolve(string? name)
    {
        string n = (name ?? "auto").Trim().ToLowerInvariant();
        if (n == "auto") return cuda.is_available() ? CUDA : CPU;
        if (n == "cpu") return CPU;
        if (n == "cuda" || n.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
                throw new TrainerConfigException($"device '{name}' was asked for, but torch.cuda.is_available() is false " +
                                                 "(a CPU-only libtorch, or no GPU/driver); use --device cpu or auto");
            return new Device(n);
        }
        throw new TrainerConfigException($"device '{name}' is not one of auto, cpu, cuda, cuda:N");
    }
}
