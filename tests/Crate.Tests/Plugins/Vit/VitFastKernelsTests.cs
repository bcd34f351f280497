using Crate.Core.Contract;
using Crate.Core.Modules;
using Crate.Plugins.Vit;

namespace Crate.Tests.Plugins.Vit;

/// <summary><c>model.fast_kernels</c>: off builds the plain formulas; at its default it leaves config.json and the run key as before.</summary>
public sealed class VitFastKernelsTests
{
    private static readonly ConfigSchema Schema = new(VitKeys.All);

    private static Dictionary<string, string> Set(params (string Key, string Value)[] kv) => kv.ToDictionary(x => x.Key, x => x.Value);

    [Fact]
    public void The_default_is_left_out_of_the_config_and_false_reaches_both_models()
    {
        var shape = Set(("model.dim", "32"), ("model.depth", "1"), ("model.heads", "2"), ("model.patch_size", "7"));
        var fast = Schema.Resolve(shape);
        var plain = Schema.Resolve(shape, Set(("model.fast_kernels", "false")));

        Assert.DoesNotContain("fast_kernels", fast.ToJson());
        Assert.Contains("\"model.fast_kernels\":false", plain.ToJson());
        var s = VisionShape.From(plain, VisionShape.Crate);
        Assert.False(s.ToCrate(plain).Fast);
        Assert.False(s.ToVit(plain).Fast);
        Assert.True(VisionShape.From(fast, VisionShape.Crate).ToCrate(fast).Fast);
    }
}
