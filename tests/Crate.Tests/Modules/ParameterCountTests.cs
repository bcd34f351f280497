using Crate.Core.Modules;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>Named configs' parameter counts: the paper's numbers, and the formulas against built modules.</summary>
public class ParameterCountTests
{
    [Theory]
    [InlineData("CRATE-T", 6_090_856)]     // reported 6.09M
    [InlineData("CRATE-S", 13_116_328)]    // reported 13.12M
    [InlineData("CRATE-B", 22_796_008)]    // reported 22.80M
    [InlineData("CRATE-L", 77_641_192)]    // reported 77.64M
    [InlineData("ViT-T", 5_717_416)]       // reported 5.72M
    [InlineData("ViT-S", 22_050_664)]      // reported 22.05M
    [InlineData("ViT-B", 86_567_656)]      // timm ViT-B/16 with fc_norm; the fact sheet quotes 86.54M
    [InlineData("CRATE-GPT-Base", 59_913_216 + 1024 * 768)]   // 59.9M without wpe, as reported (60M)
    public void NamedConfigsHaveThePaperCounts(string name, long expected)
    {
        Assert.Equal(expected, ModelZoo.ParameterCount(name));
    }

    [Theory]
    [InlineData("CRATE-T", 6.09)]
    [InlineData("CRATE-S", 13.12)]
    [InlineData("CRATE-B", 22.80)]
    [InlineData("CRATE-L", 77.64)]
    [InlineData("ViT-T", 5.72)]
    [InlineData("ViT-S", 22.05)]
    public void CountsRoundToTheReportedMillions(string name, double millions)
    {
        Assert.Equal(millions, Math.Round(ModelZoo.ParameterCount(name) / 1e6, 2));
    }

    [Theory]
    [InlineData("CRATE-T")]
    [InlineData("CRATE-S")]
    [InlineData("CRATE-Proto")]
    [InlineData("CRATE-Micro")]
    public void CrateFormulaEqualsTheBuiltModule(string name)
    {
        using var model = new CrateClassifier(ModelZoo.Crate[name]);
        Assert.Equal(ModelZoo.ParameterCount(name), ModuleInit.CountParameters(model));
    }

    [Theory]
    [InlineData("ViT-T")]
    [InlineData("ViT-S")]
    [InlineData("ViT-Proto")]
    public void VitFormulaEqualsTheBuiltModule(string name)
    {
        using var model = new VisionTransformer(ModelZoo.Vit[name]);
        Assert.Equal(ModelZoo.ParameterCount(name), ModuleInit.CountParameters(model));
    }

    [Fact]
    public void GptFormulasEqualTheBuiltModules()
    {
        using var gpt = new Gpt2Model(ModelZoo.GptMini);
        Assert.Equal(ModelZoo.ParameterCount("GPT2-Mini"), ModuleInit.CountParameters(gpt));
        using var crate = new CrateGptModel(ModelZoo.GptMini);
        Assert.Equal(ModelZoo.ParameterCount("CRATE-GPT-Mini"), ModuleInit.CountParameters(crate));
    }

    [Fact]
    public void GeneralisedCrateFormulaHandlesHeadWidthOtherThanDOverK()
    {
        var config = new CrateConfig(Dim: 24, Depth: 2, Heads: 2, ImageSize: 8, PatchSize: 4, Channels: 1, NumClasses: 3) { HeadDim = 8 };
        using var model = new CrateClassifier(config);
        Assert.Equal(config.ParameterCount(), ModuleInit.CountParameters(model));
        var single = config with { Heads = 1, HeadDim = 24 };      // K = 1, p = d: no output map
        using var noOut = new CrateClassifier(single);
        Assert.Equal(single.ParameterCount(), ModuleInit.CountParameters(noOut));
    }

    [Fact]
    public void AllNamedConfigsAreListedWithTheirModelKind()
    {
        var names = ModelZoo.All.Select(c => c.Name).ToList();
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Contains(ModelZoo.All, c => c.Name == "CRATE-Proto" && c.Model == "crate");
        Assert.Contains(ModelZoo.All, c => c.Name == "ViT-S" && c.Model == "vit");
        Assert.Contains(ModelZoo.All, c => c.Name == "GPT2-Base" && c.Model == "gpt2");
        Assert.Throws<KeyNotFoundException>(() => ModelZoo.ParameterCount("CRATE-XXL"));
    }
}
