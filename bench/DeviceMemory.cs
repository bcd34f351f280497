using System.Runtime.InteropServices;

namespace Crate.Bench;

/// <summary>
/// Memory in use on the current CUDA device: total − free from the CUDA runtime's <c>cudaMemGetInfo</c>, read from the
/// libcudart that libtorch_cuda already mapped into the process. TorchSharp 0.107 binds no
/// <c>torch.cuda.max_memory_allocated</c>, so this is what the bench can report: it counts the CUDA context, the caching
/// allocator's whole reserve and any other process on the device, so it bounds the tensors' peak from above.
/// </summary>
internal static class DeviceMemory
{
    [UnmanagedFunctionPointer(CallingConvention.Cdecl)]
    private delegate int MemGetInfo(out nuint free, out nuint total);

    // libcudart's soname per CUDA major version (PyTorch's CUDA 13 and 12 builds; the unversioned name last).
    private static readonly string[] Names = ["libcudart.so.13", "libcudart.so.12", "libcudart.so"];
    private static readonly Lazy<(MemGetInfo? Query, string Source)> Api = new(Load);

    /// <summary>The library the numbers come from, or why there are none.</summary>
    public static string Source => Api.Value.Source;

    /// <summary>MiB in use on the current device, or null without a CUDA runtime (or when the call fails).</summary>
    public static double? UsedMiB()
    {
        if (Api.Value.Query is not { } query) return null;
        return query(out nuint free, out nuint total) == 0 ? (total - free) / (1024.0 * 1024.0) : null;
    }

    private static (MemGetInfo?, string) Load()
    {
        foreach (var name in Names)
            if (NativeLibrary.TryLoad(name, out var handle) && NativeLibrary.TryGetExport(handle, "cudaMemGetInfo", out var address))
                return (Marshal.GetDelegateForFunctionPointer<MemGetInfo>(address), $"cudaMemGetInfo ({name})");
        return (null, $"not available: none of {string.Join(", ", Names)} could be loaded");
    }
}
