using TorchSharp;

namespace Crate.Tests;

/// <summary>TorchSharp's native libraries load in this process (build/TorchNative.targets patches them on Debian 12).</summary>
public class TorchLoadTests
{
    [Fact]
    public void LibTorchLoadsAndComputes()
    {
        using var scope = torch.NewDisposeScope();
        var x = torch.arange(6, dtype: torch.float32).reshape(2, 3);
        var y = torch.matmul(x, x.t());
        Assert.Equal(new float[] { 5, 14, 14, 50 }, y.data<float>().ToArray());
    }
}
