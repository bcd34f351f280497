using Crate.Core.Contract;
using Crate.Core.Data.Images;
using Crate.Core.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Vit;

/// <summary>
/// The shape of a vision model in the reference constructor's terms (<c>image_size</c>, <c>patch_size</c>,
/// <c>channels</c>, <c>num_classes</c>, <c>dim</c>, <c>depth</c>, <c>heads</c>, <c>dim_head</c>, and the
/// ViT's <c>mlp_ratio</c>), resolved from the config, and the models built from it.
/// </summary>
public sealed record VisionShape(int ImageSize, int PatchSize, int Channels, int NumClasses, int Dim, int Depth, int Heads,
    int HeadDim, double MlpRatio)
{
    /// <summary>Model name of the CRATE classifier.</summary>
    public const string Crate = "crate";

    /// <summary>Model name of the ViT baseline.</summary>
    public const string Vit = "vit";

    /// <summary>Patch tokens per side.</summary>
    public int Grid => ImageSize / PatchSize;

    /// <summary>The paper's named size <paramref name="size"/> (T, S, B, L) of <paramref name="model"/>: CRATE-T/S/B/L or ViT-T/S/B (§2).</summary>
    public static (string Name, int Dim, int Depth, int Heads) Named(string model, string size)
    {
        string name = (model == Crate ? "CRATE-" : "ViT-") + size;
        if (model == Crate && ModelZoo.Crate.TryGetValue(name, out var c)) return (name, c.Dim, c.Depth, c.Heads);
        if (model == Vit && ModelZoo.Vit.TryGetValue(name, out var v)) return (name, v.Dim, v.Depth, v.Heads);
        throw new ConfigException($"config key 'model.size': {name} is not a named size of the paper " +
                                  "(CRATE-T/S/B/L, ViT-T/S/B); use model.size=custom and give model.dim, model.depth, model.heads");
    }

    /// <summary>
    /// Reads the shape keys of <paramref name="config"/> for <paramref name="model"/>. With a named
    /// <c>model.size</c>, dim, depth and heads come from it and any of those keys that is not 0 must agree;
    /// with <c>custom</c> they are required. Throws <see cref="ConfigException"/> naming the key.
    /// </summary>
    public static VisionShape From(ResolvedConfig config, string model)
    {
        int image = config.GetInt(ImageKeys.ImageSize), patch = config.GetInt(ImageKeys.PatchSize);
        int dim = config.GetInt(VitKeys.Dim), depth = config.GetInt(VitKeys.Depth), heads = config.GetInt(VitKeys.Heads);
        int headDim = config.GetInt(VitKeys.HeadDim);
        string size = config.Get(VitKeys.Size);
        if (size != "custom")
        {
            var named = Named(model, size);
            dim = Agree(VitKeys.Dim, dim, named.Dim, named.Name);
            depth = Agree(VitKeys.Depth, depth, named.Depth, named.Name);
            heads = Agree(VitKeys.Heads, heads, named.Heads, named.Name);
        }
        foreach (var (key, value) in new[] { (VitKeys.Dim, dim), (VitKeys.Depth, depth), (VitKeys.Heads, heads) })
            if (value <= 0)
                throw new ConfigException($"config key '{key.Name}' is 0: give it, or a named model.size (T, S, B, L)");
        if (headDim == 0)
        {
            if (dim % heads != 0)
                throw new ConfigException($"config key 'model.heads': {heads} does not divide model.dim = {dim}; give model.dim_head");
            headDim = dim / heads;
        }
        if (model == Vit && headDim * heads != dim)
            throw new ConfigException($"config key 'model.dim_head': the ViT baseline splits model.dim = {dim} over {heads} heads, " +
                                      $"so dim_head must be {dim / Math.Max(1, heads)} (or 0), not {headDim}");
        if (image % patch != 0)
            throw new ConfigException($"config key 'model.patch_size': {patch} does not divide model.image_size = {image}");
        return new VisionShape(image, patch, config.GetInt(ImageKeys.Channels), config.GetInt(ImageKeys.NumClasses),
            dim, depth, heads, headDim, config.Get(VitKeys.MlpRatio));
    }

    private static int Agree(ConfigKey<long> key, int given, int named, string name) =>
        given == 0 || given == named ? named
            : throw new ConfigException($"config key '{key.Name}' is {given} but model.size names {name} with {key.Name[6..]} {named}; " +
                                        $"set {key.Name}=0 to take the named size, or model.size=custom to give the shape yourself");

    /// <summary>The CRATE classifier config (pool, eta and lambda from <paramref name="config"/>).</summary>
    public CrateConfig ToCrate(ResolvedConfig config)
    {
        var crate = new CrateConfig(Dim, Depth, Heads, ImageSize, PatchSize, Channels, NumClasses,
            Pool: config.Get(VitKeys.Pool) == "mean" ? Pooling.Mean : Pooling.Cls,
            Eta: config.Get(VitKeys.Eta), Lambda: config.Get(VitKeys.Lambda), Fast: config.Get(VitKeys.FastKernels));
        return HeadDim * Heads == Dim ? crate : crate with { HeadDim = HeadDim };
    }

    /// <summary>The ViT baseline config (timm VisionTransformer with global average pooling, as the reference's main.py).</summary>
    public VitConfig ToVit() => new(Dim, Depth, Heads, ImageSize, PatchSize, Channels, NumClasses, MlpRatio);

    /// <summary>The ViT baseline config with <c>model.fast_kernels</c> from <paramref name="config"/>.</summary>
    public VitConfig ToVit(ResolvedConfig config) => ToVit() with { Fast = config.Get(VitKeys.FastKernels) };

    /// <summary>Trainable parameters of <paramref name="model"/> at this shape, by formula (nothing is built).</summary>
    public long ParameterCount(string model, ResolvedConfig config) =>
        model == Crate ? ToCrate(config).ParameterCount() : ToVit().ParameterCount();

    /// <summary>Builds <paramref name="model"/> (<c>crate</c> or <c>vit</c>) on the CPU with the current torch seed.</summary>
    public nn.Module<Tensor, Tensor> Build(string model, ResolvedConfig config) => model switch
    {
        Crate => new CrateClassifier(ToCrate(config)),
        Vit => new VisionTransformer(ToVit(config)),
        _ => throw new ConfigException($"unknown model '{model}' (vit task models: {Crate}, {Vit})"),
    };

    /// <summary>"d=192 L=6 K=6 p=32, 28px/4, 1ch, 10 classes" for logs and notes.</summary>
    public override string ToString() =>
        $"dim={Dim} depth={Depth} heads={Heads} dim_head={HeadDim}, image {ImageSize}px patch {PatchSize}, {Channels} channel(s), {NumClasses} classes";
}

/// <summary>The vit task's models: the paper's named sizes and the presets' shapes, counted by formula and built.</summary>
public static class VitModels
{
    /// <summary>CRATE-T/S/B/L and ViT-T/S/B (1000 classes, 224 px, patch 16) and every model of the smoke and small presets.</summary>
    public static IReadOnlyList<NamedModelConfig> NamedConfigs(ConfigSchema schema)
    {
        string[] named = ["CRATE-T", "CRATE-S", "CRATE-B", "CRATE-L", "ViT-T", "ViT-S", "ViT-B"];
        var list = named.Select(n => ModelZoo.All.Single(c => c.Name == n)).ToList();
        foreach (var preset in VitPresets.All.Where(p => p.Name is "small" or "smoke"))
            foreach (var model in new[] { VisionShape.Crate, VisionShape.Vit })
            {
                var config = schema.Resolve(preset.ValuesFor(model));
                var shape = VisionShape.From(config, model);
                list.Add(new NamedModelConfig($"{preset.Name}-{model}", model, shape.ParameterCount(model, config), $"the {preset.Name} preset: {shape}"));
            }
        return list;
    }

    /// <summary>The paper's sizes from <see cref="ModelZoo"/>, the presets' shapes from their configs.</summary>
    public static nn.Module? BuildNamed(NamedModelConfig named, ConfigSchema schema)
    {
        if (ModelZoo.Crate.TryGetValue(named.Name, out var crate)) return new CrateClassifier(crate);
        if (ModelZoo.Vit.TryGetValue(named.Name, out var vit)) return new VisionTransformer(vit);
        var preset = VitPresets.All.FirstOrDefault(p => named.Name == $"{p.Name}-{named.Model}");
        if (preset is null) return null;
        var config = schema.Resolve(preset.ValuesFor(named.Model));
        return VisionShape.From(config, named.Model).Build(named.Model, config);
    }
}
