using Crate.Core.Contract;

namespace Crate.Core.Modules;

/// <summary>
/// Named architectures (docs/paper.md §2, §3f) and small CPU configurations, with their parameter
/// counts. Vision configs are for 1000 classes, 224×224 RGB, patch 16 unless named otherwise; change
/// them with <c>with</c> (e.g. <c>ModelZoo.CrateTiny with { NumClasses = 10 }</c>).
/// </summary>
public static class ModelZoo
{
    /// <summary>CRATE-T: d 384, L 12, K 6 (p 64); 6.09M parameters.</summary>
    public static CrateConfig CrateTiny { get; } = new(Dim: 384, Depth: 12, Heads: 6, ImageSize: 224, PatchSize: 16);

    /// <summary>CRATE-S: d 576, L 12, K 12 (p 48); 13.12M.</summary>
    public static CrateConfig CrateSmall { get; } = new(Dim: 576, Depth: 12, Heads: 12, ImageSize: 224, PatchSize: 16);

    /// <summary>CRATE-B: d 768, L 12, K 12 (p 64); 22.80M.</summary>
    public static CrateConfig CrateBase { get; } = new(Dim: 768, Depth: 12, Heads: 12, ImageSize: 224, PatchSize: 16);

    /// <summary>CRATE-L: d 1024, L 24, K 16 (p 64); 77.64M.</summary>
    public static CrateConfig CrateLarge { get; } = new(Dim: 1024, Depth: 24, Heads: 16, ImageSize: 224, PatchSize: 16);

    /// <summary>CPU prototype: d 192, L 6, K 6, 28×28 greyscale, patch 4, 10 classes.</summary>
    public static CrateConfig CrateProto { get; } =
        new(Dim: 192, Depth: 6, Heads: 6, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10);

    /// <summary>Smoke-test size: d 64, L 4, K 4, 28×28 greyscale, patch 4, 10 classes.</summary>
    public static CrateConfig CrateMicro { get; } =
        new(Dim: 64, Depth: 4, Heads: 4, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10);

    /// <summary>ViT-T: d 192, L 12, 3 heads; 5.72M.</summary>
    public static VitConfig VitTiny { get; } = new(Dim: 192, Depth: 12, Heads: 3, ImageSize: 224, PatchSize: 16);

    /// <summary>ViT-S: d 384, L 12, 6 heads; 22.05M.</summary>
    public static VitConfig VitSmall { get; } = new(Dim: 384, Depth: 12, Heads: 6, ImageSize: 224, PatchSize: 16);

    /// <summary>ViT-B: d 768, L 12, 12 heads; 86.54M.</summary>
    public static VitConfig VitBase { get; } = new(Dim: 768, Depth: 12, Heads: 12, ImageSize: 224, PatchSize: 16);

    /// <summary>ViT at the CPU prototype's shape (d 192, L 6, 6 heads, 28×28×1, patch 4, 10 classes).</summary>
    public static VitConfig VitProto { get; } =
        new(Dim: 192, Depth: 6, Heads: 6, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10);

    /// <summary>ViT at the smoke-test shape (d 64, L 4, 4 heads).</summary>
    public static VitConfig VitMicro { get; } =
        new(Dim: 64, Depth: 4, Heads: 4, ImageSize: 28, PatchSize: 4, Channels: 1, NumClasses: 10);

    /// <summary>GPT-2 base shape (L 12, K 12, d 768, context 1024, vocab 50,304), shared by GPT-2 and CRATE-GPT.</summary>
    public static GptConfig GptBase { get; } = new();

    /// <summary>Small CPU language model: L 4, K 4, d 128, context 256, vocab 50,304.</summary>
    public static GptConfig GptMini { get; } = new(BlockSize: 256, NLayer: 4, NHead: 4, NEmbd: 128);

    /// <summary>CRATE classifier configs by name.</summary>
    public static IReadOnlyDictionary<string, CrateConfig> Crate { get; } = new Dictionary<string, CrateConfig>
    {
        ["CRATE-T"] = CrateTiny, ["CRATE-S"] = CrateSmall, ["CRATE-B"] = CrateBase, ["CRATE-L"] = CrateLarge,
        ["CRATE-Proto"] = CrateProto, ["CRATE-Micro"] = CrateMicro,
    };

    /// <summary>ViT configs by name.</summary>
    public static IReadOnlyDictionary<string, VitConfig> Vit { get; } = new Dictionary<string, VitConfig>
    {
        ["ViT-T"] = VitTiny, ["ViT-S"] = VitSmall, ["ViT-B"] = VitBase,
        ["ViT-Proto"] = VitProto, ["ViT-Micro"] = VitMicro,
    };

    /// <summary>Language-model configs by name (GPT-2 and CRATE-GPT share shapes).</summary>
    public static IReadOnlyDictionary<string, GptConfig> Gpt { get; } = new Dictionary<string, GptConfig>
    {
        ["GPT2-Base"] = GptBase, ["GPT2-Mini"] = GptMini,
        ["CRATE-GPT-Base"] = GptBase, ["CRATE-GPT-Mini"] = GptMini,
    };

    /// <summary>Every named config with its parameter count (the contract's record).</summary>
    public static IReadOnlyList<NamedModelConfig> All { get; } = BuildAll();

    /// <summary>Parameter count of a named config (<see cref="All"/>), or a <see cref="KeyNotFoundException"/> listing the names.</summary>
    public static long ParameterCount(string name) =>
        All.FirstOrDefault(c => c.Name == name)?.Parameters
        ?? throw new KeyNotFoundException(
            $"No named model config '{name}'. Known: {string.Join(", ", All.Select(c => c.Name))}.");

    private static List<NamedModelConfig> BuildAll()
    {
        var all = new List<NamedModelConfig>();
        foreach (var (name, c) in Crate)
            all.Add(new(name, "crate", c.ParameterCount(),
                $"CRATE d={c.Dim} L={c.Depth} K={c.Heads} p={c.HeadDim}, {c.ImageSize}x{c.ImageSize}x{c.Channels} patch {c.PatchSize}, {c.NumClasses} classes"));
        foreach (var (name, c) in Vit)
            all.Add(new(name, "vit", c.ParameterCount(),
                $"ViT d={c.Dim} L={c.Depth} heads={c.Heads} mlp={c.MlpHidden}, {c.ImageSize}x{c.ImageSize}x{c.Channels} patch {c.PatchSize}, {c.NumClasses} classes"));
        foreach (var (name, c) in Gpt)
        {
            bool crate = name.StartsWith("CRATE", StringComparison.Ordinal);
            all.Add(new(name, crate ? "crate-gpt" : "gpt2", crate ? c.CrateGptParameterCount() : c.Gpt2ParameterCount(),
                $"{(crate ? "CRATE-GPT" : "GPT-2")} L={c.NLayer} K={c.NHead} d={c.NEmbd}, context {c.BlockSize}, vocab {c.VocabSize} (tied head counted once, wpe included)"));
        }
        return all;
    }
}
