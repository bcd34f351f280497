using Crate.Core.Contract;
using Crate.Core.Modules;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Crate.Plugins.Dino;

/// <summary>
/// The shape of a DINO network (backbone + head) in the vit task's terms plus DINO's head arguments,
/// resolved from the config. <see cref="ImageSize"/> is the global crop size: the backbones' position
/// table is built for it and interpolated for the local crops.
/// </summary>
public sealed record DinoShape(int ImageSize, int PatchSize, int Channels, int Dim, int Depth, int Heads, double MlpRatio,
    double Eta, double Lambda, int HiddenDim, int BottleneckDim, int OutDim, bool NormLastLayer)
{
    /// <summary>Model name of CRATE-DINO.</summary>
    public const string Crate = "crate";

    /// <summary>Model name of DINO-ViT.</summary>
    public const string Vit = "vit";

    /// <summary>Patch tokens per side of a global crop.</summary>
    public int Grid => ImageSize / PatchSize;

    /// <summary>Reads the shape of <paramref name="model"/> from <paramref name="config"/>; a <see cref="ConfigException"/> names the key at fault.</summary>
    public static DinoShape From(ResolvedConfig config, string model)
    {
        if (model is not (Crate or Vit)) throw new ConfigException($"unknown model '{model}' (dino task models: {Crate}, {Vit})");
        int global = config.GetInt(DinoKeys.GlobalSize), local = config.GetInt(DinoKeys.LocalSize), patch = config.GetInt(DinoKeys.PatchSize);
        int dim = config.GetInt(DinoKeys.Dim), depth = config.GetInt(DinoKeys.Depth), heads = config.GetInt(DinoKeys.Heads);
        string size = config.Get(DinoKeys.Size);
        if (size != "custom")
        {
            string name = (model == Crate ? "CRATE-" : "ViT-") + size;
            (int Dim, int Depth, int Heads) named = model == Crate && ModelZoo.Crate.TryGetValue(name, out var c) ? (c.Dim, c.Depth, c.Heads)
                : model == Vit && ModelZoo.Vit.TryGetValue(name, out var v) ? (v.Dim, v.Depth, v.Heads)
                : throw new ConfigException($"config key 'model.size': {name} is not a named size (CRATE-T/S/B/L, ViT-T/S/B)");
            dim = Agree(DinoKeys.Dim, dim, named.Dim, name);
            depth = Agree(DinoKeys.Depth, depth, named.Depth, name);
            heads = Agree(DinoKeys.Heads, heads, named.Heads, name);
        }
        foreach (var (key, value) in new[] { (DinoKeys.Dim, dim), (DinoKeys.Depth, depth), (DinoKeys.Heads, heads) })
            if (value <= 0) throw new ConfigException($"config key '{key.Name}' is 0: give it, or a named model.size (T, S, B, L)");
        if (dim % heads != 0)
            throw new ConfigException($"config key 'model.heads': {heads} does not divide model.dim = {dim}");
        if (global % patch != 0)
            throw new ConfigException($"config key 'model.patch_size': {patch} does not divide data.global_size = {global}");
        if (local % patch != 0)
            throw new ConfigException($"config key 'data.local_size': {local} is not a multiple of model.patch_size = {patch}");
        if (config.Get(DinoKeys.LocalMinScale) > config.Get(DinoKeys.LocalMaxScale))
            throw new ConfigException($"config key 'data.local_min_scale' ({config.Get(DinoKeys.LocalMinScale)}) exceeds data.local_max_scale ({config.Get(DinoKeys.LocalMaxScale)})");
        return new DinoShape(global, patch, config.GetInt(DinoKeys.Channels), dim, depth, heads, config.Get(DinoKeys.MlpRatio),
            config.Get(DinoKeys.Eta), config.Get(DinoKeys.Lambda), config.GetInt(DinoKeys.HiddenDim), config.GetInt(DinoKeys.BottleneckDim),
            config.GetInt(DinoKeys.OutDim), config.Get(DinoKeys.NormLastLayer));
    }

    private static int Agree(ConfigKey<long> key, int given, int named, string name) =>
        given == 0 || given == named ? named
            : throw new ConfigException($"config key '{key.Name}' is {given} but model.size names {name} with {named}; " +
                                        $"set {key.Name}=0 to take the named size, or model.size=custom");

    /// <summary>Builds the backbone of <paramref name="model"/> (current torch seed, CPU).</summary>
    public IDinoBackbone BuildBackbone(string model) => model == Crate ? new CrateBackbone(this) : new VitBackbone(this);

    /// <summary>Builds backbone + head (current torch seed, CPU).</summary>
    public DinoNetwork Build(string model) => new(BuildBackbone(model), new DinoHead(Dim, HiddenDim, BottleneckDim, OutDim, NormLastLayer));

    /// <summary>"dim=192 depth=6 heads=6, 28px patch 7, 1 channel(s); head 2048-256-4096" for logs.</summary>
    public override string ToString() =>
        $"dim={Dim} depth={Depth} heads={Heads}, global {ImageSize}px patch {PatchSize}, {Channels} channel(s); head {HiddenDim}-{BottleneckDim}-{OutDim}" +
        (NormLastLayer ? " (norm of the last layer fixed)" : "");
}

/// <summary>A DINO backbone: images of any size (a multiple of the patch) → tokens, and its last layer's [CLS] attention.</summary>
public interface IDinoBackbone
{
    /// <summary>Width d of the features.</summary>
    int Dim { get; }

    /// <summary>Images [B, C, H, W] → tokens [B, n, d] after the final LayerNorm ([CLS] first).</summary>
    Tensor Tokens(Tensor images);

    /// <summary>The last layer's attention of [CLS] to the patches, per head: [B, K, H/P, W/P] (call without gradients).</summary>
    Tensor ClsAttention(Tensor images);

    /// <summary>The backbone as a module (for state_dicts and devices).</summary>
    nn.Module<Tensor, Tensor> Module { get; }
}

/// <summary>
/// CRATE as a DINO backbone: the vit task's CRATE classifier (docs/paper.md §1.2-1.3: patch LN-Linear-LN stem,
/// [CLS], learned positions, MSSA + ISTA layers) with its head's LayerNorm and without the class Linear, like
/// DINO's <c>head = nn.Identity()</c>. State_dict names are the classifier's (<c>to_patch_embedding.*</c>,
/// <c>pos_embedding</c>, <c>cls_token</c>, <c>transformer.layers.{i}.*</c>, <c>mlp_head.0.*</c>), so a supervised
/// CRATE checkpoint loads once its <c>mlp_head.1.*</c> is dropped. Forward: the [CLS] feature [B, d].
/// </summary>
public sealed class CrateBackbone : nn.Module<Tensor, Tensor>, IDinoBackbone
{
    private readonly PatchEmbedding to_patch_embedding;
    private readonly Parameter pos_embedding;
    private readonly Parameter cls_token;
    private readonly CrateEncoder transformer;
    private readonly Sequential mlp_head;
    private readonly int _patch;

    /// <summary>Builds it with the classifier's initialisation (positions and [CLS] ~ N(0, 1)).</summary>
    public CrateBackbone(DinoShape shape) : base(nameof(CrateBackbone))
    {
        Dim = shape.Dim;
        _patch = shape.PatchSize;
        to_patch_embedding = new PatchEmbedding(shape.PatchSize, shape.Channels, shape.Dim);
        pos_embedding = new Parameter(randn(1, (long)shape.Grid * shape.Grid + 1, shape.Dim));
        cls_token = new Parameter(randn(1, 1, shape.Dim));
        transformer = new CrateEncoder(shape.Dim, shape.Depth, shape.Heads, shape.Dim / shape.Heads, 0.0, shape.Eta, shape.Lambda);
        mlp_head = nn.Sequential(("0", nn.LayerNorm(shape.Dim)));
        RegisterComponents();
    }

    /// <inheritdoc/>
    public int Dim { get; }

    /// <inheritdoc/>
    public nn.Module<Tensor, Tensor> Module => this;

    /// <summary>The layers, for the white-box measurements.</summary>
    public IReadOnlyList<CrateLayer> Layers => transformer.Layers;

    /// <summary>f^pre: images [B, C, H, W] → Z^1 [B, N+1, d], the position table resized to the image's grid.</summary>
    public Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = to_patch_embedding.forward(images);                                          // [B, N, d]
        x = cat([cls_token.expand(x.shape[0], 1, Dim), x], 1);                               // [B, N+1, d]
        var table = PositionInterpolation.Resize(pos_embedding, images.shape[2] / _patch, images.shape[3] / _patch);
        return (x + table).MoveToOuterDisposeScope();                                        // [B, N+1, d]
    }

    /// <inheritdoc/>
    public Tensor Tokens(Tensor images)
    {
        using var scope = NewDisposeScope();
        return mlp_head.forward(transformer.forward(Embed(images))).MoveToOuterDisposeScope();   // [B, N+1, d]
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return Tokens(images).select(1, 0).MoveToOuterDisposeScope();                       // [B, d]
    }

    /// <inheritdoc/>
    public Tensor ClsAttention(Tensor images)
    {
        using var scope = NewDisposeScope();
        var layers = transformer.Layers;
        var z = Embed(images);                                                               // Z^1 [B, n, d]
        for (int i = 0; i < layers.Count - 1; i++) z = layers[i].forward(z);                 // Z^L [B, n, d]
        var last = layers[^1].Attention;
        var maps = last.fn.AttentionMaps(last.norm.forward(z));                              // [B, K, n, n]
        return ClsRows(maps, images, _patch).MoveToOuterDisposeScope();
    }

    /// <summary>Row 0 (the [CLS] query) over the patch keys, on the image's grid: [B, K, n, n] → [B, K, H/P, W/P].</summary>
    internal static Tensor ClsRows(Tensor maps, Tensor images, int patch)
    {
        long b = maps.shape[0], k = maps.shape[1], n = maps.shape[2];
        return maps.select(2, 0).narrow(-1, 1, n - 1).reshape(b, k, images.shape[2] / patch, images.shape[3] / patch);
    }
}

/// <summary>
/// DINO's ViT backbone (vision_transformer.py with <c>head = Identity</c>): conv patch stem, [CLS], learned
/// positions interpolated to the crop's grid, pre-norm blocks (qkv bias, GELU MLP), final LayerNorm (eps 1e-6);
/// the feature is the [CLS] token. State_dict names are DINO's backbone names (<c>patch_embed.proj.*</c>,
/// <c>cls_token</c>, <c>pos_embed</c>, <c>blocks.{i}.*</c>, <c>norm.*</c>), so DINO's released backbone weights
/// load as they are. Initialisation as DINO: positions and [CLS] trunc-normal(0.02), Linears trunc-normal(0.02)
/// with zero bias. No stochastic depth (DINO's ViT-S uses drop_path 0.1).
/// </summary>
public sealed class VitBackbone : nn.Module<Tensor, Tensor>, IDinoBackbone
{
    private readonly VisionTransformer.PatchStem patch_embed;
    private readonly Parameter cls_token;
    private readonly Parameter pos_embed;
    private readonly ModuleList<VitBlock> blocks;
    private readonly LayerNorm norm;
    private readonly int _patch;
    private readonly int _heads;

    /// <summary>Builds it with DINO's initialisation.</summary>
    public VitBackbone(DinoShape shape) : base(nameof(VitBackbone))
    {
        Dim = shape.Dim;
        _patch = shape.PatchSize;
        _heads = shape.Heads;
        patch_embed = new VisionTransformer.PatchStem(shape.Channels, shape.Dim, shape.PatchSize);
        cls_token = new Parameter(zeros(1, 1, shape.Dim));
        pos_embed = new Parameter(zeros(1, (long)shape.Grid * shape.Grid + 1, shape.Dim));
        blocks = new ModuleList<VitBlock>();
        for (int i = 0; i < shape.Depth; i++)
            blocks.Add(new VitBlock(shape.Dim, shape.Heads, (long)(shape.Dim * shape.MlpRatio)));
        norm = nn.LayerNorm(shape.Dim, 1e-6);
        RegisterComponents();
        using var noGrad = no_grad();
        ModuleInit.TruncNormal(pos_embed, std: 0.02);
        ModuleInit.TruncNormal(cls_token, std: 0.02);
        foreach (var (_, module) in named_modules())
            if (module is Linear linear)
            {
                ModuleInit.TruncNormal(linear.weight!, std: 0.02);
                if (linear.bias is not null) nn.init.zeros_(linear.bias);
            }
    }

    /// <inheritdoc/>
    public int Dim { get; }

    /// <inheritdoc/>
    public nn.Module<Tensor, Tensor> Module => this;

    private Tensor Embed(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = patch_embed.forward(images);                                                 // [B, N, d]
        x = cat([cls_token.expand(x.shape[0], 1, Dim), x], 1);                               // [B, N+1, d]
        var table = PositionInterpolation.Resize(pos_embed, images.shape[2] / _patch, images.shape[3] / _patch);
        return (x + table).MoveToOuterDisposeScope();                                        // [B, N+1, d]
    }

    /// <inheritdoc/>
    public Tensor Tokens(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = Embed(images);
        foreach (var block in blocks) x = block.forward(x);                                  // [B, N+1, d]
        return norm.forward(x).MoveToOuterDisposeScope();
    }

    /// <inheritdoc/>
    public override Tensor forward(Tensor images)
    {
        using var scope = NewDisposeScope();
        return Tokens(images).select(1, 0).MoveToOuterDisposeScope();                       // [B, d]
    }

    /// <inheritdoc/>
    public Tensor ClsAttention(Tensor images)
    {
        using var scope = NewDisposeScope();
        var x = Embed(images);
        for (int i = 0; i < blocks.Count - 1; i++) x = blocks[i].forward(x);                 // [B, n, d]
        var last = blocks[blocks.Count - 1];
        var h = last.norm1.forward(x);
        long b = h.shape[0], n = h.shape[1], p = Dim / _heads;
        var qkv = last.attn.qkv.forward(h).view(b, n, 3, _heads, p).permute(2, 0, 3, 1, 4);  // [3, B, K, n, p]
        var maps = nn.functional.softmax(matmul(qkv[0], qkv[1].transpose(-1, -2)) * (1.0 / Math.Sqrt(p)), -1);   // [B, K, n, n]
        return CrateBackbone.ClsRows(maps, images, _patch).MoveToOuterDisposeScope();
    }
}

/// <summary>
/// DINO's projection head (<c>DINOHead</c>, 3 layers, no batch norm): Linear(d → hidden) → GELU → Linear(hidden →
/// hidden) → GELU → Linear(hidden → bottleneck), ℓ2-normalisation, then the weight-normalised prototype layer
/// (bottleneck → K, no bias). Names <c>mlp.{0,2,4}.*</c>, <c>last_layer.weight_g</c> [K, 1], <c>last_layer.weight_v</c> [K, bottleneck].
/// Init: MLP Linears trunc-normal(0.02) with zero bias; weight_v PyTorch's Linear default; weight_g = 1.
/// </summary>
public sealed class DinoHead : nn.Module<Tensor, Tensor>, IMixedPrecision
{
    private readonly Sequential mlp;
    private readonly WeightNormLinear last_layer;

    /// <summary>A head from width <paramref name="inDim"/> to <paramref name="outDim"/> prototypes.</summary>
    public DinoHead(int inDim, int hiddenDim, int bottleneckDim, int outDim, bool normLastLayer) : base(nameof(DinoHead))
    {
        mlp = nn.Sequential(("0", nn.Linear(inDim, hiddenDim)), ("1", nn.GELU()), ("2", nn.Linear(hiddenDim, hiddenDim)),
            ("3", nn.GELU()), ("4", nn.Linear(hiddenDim, bottleneckDim)));
        last_layer = new WeightNormLinear(bottleneckDim, outDim, trainNorm: !normLastLayer);
        RegisterComponents();
        using var noGrad = no_grad();
        foreach (var (_, module) in mlp.named_modules())
            if (module is Linear linear)
            {
                ModuleInit.TruncNormal(linear.weight!, std: 0.02);
                nn.init.zeros_(linear.bias!);
            }
    }

    /// <summary>Compute type of the MLP's and the prototype layer's products (<see cref="MixedPrecision"/>); the ℓ2-normalisation, the weight norm and the scores stay float32.</summary>
    public ScalarType? ComputeType { get; set; }

    /// <summary>The prototype layer (its gradient is dropped while <c>dino.freeze_last_layer</c> lasts).</summary>
    public WeightNormLinear LastLayer => last_layer;

    /// <summary>Features [B, d] → prototype scores [B, K].</summary>
    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        var h = MixedPrecision.Sequential(mlp, x, ComputeType);                              // [B, bottleneck]
        var y = nn.functional.normalize(MixedPrecision.Out(h, ComputeType), p: 2, dim: -1); // [B, bottleneck], unit rows
        return MixedPrecision.Out(last_layer.forward(y, ComputeType), ComputeType).MoveToOuterDisposeScope();   // [B, K]
    }
}

/// <summary>
/// <c>nn.utils.weight_norm(nn.Linear(in, out, bias=False))</c>: weight = g · v / ‖v‖ with the norm over each output
/// row. With <c>trainNorm</c> off (DINO's norm_last_layer), g stays 1 and gets no gradient.
/// </summary>
public sealed class WeightNormLinear : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight_g;
    private readonly Parameter weight_v;

    /// <summary>A layer from <paramref name="inDim"/> to <paramref name="outDim"/>; v ~ U(±1/√in) (Linear's default), g = 1.</summary>
    public WeightNormLinear(int inDim, int outDim, bool trainNorm) : base(nameof(WeightNormLinear))
    {
        double bound = 1.0 / Math.Sqrt(inDim);
        weight_v = new Parameter(empty(outDim, inDim).uniform_(-bound, bound));
        weight_g = new Parameter(ones(outDim, 1), requires_grad: trainNorm);
        RegisterComponents();
    }

    /// <summary>The direction v [out, in].</summary>
    public Parameter WeightV => weight_v;

    /// <summary>The norm g [out, 1].</summary>
    public Parameter WeightG => weight_g;

    /// <summary>x [B, in] → x · (g · v / ‖v‖)ᵀ [B, out].</summary>
    public override Tensor forward(Tensor x) => forward(x, null);

    /// <summary>As <see cref="forward(Tensor)"/> with the product in <paramref name="computeType"/> (the weight is formed in float32; the result stays in the compute type).</summary>
    public Tensor forward(Tensor x, ScalarType? computeType)
    {
        using var scope = NewDisposeScope();
        var weight = weight_v * (weight_g / weight_v.pow(2).sum(1, keepdim: true).sqrt());    // [out, in]
        return MixedPrecision.Linear(x, weight, null, computeType).MoveToOuterDisposeScope(); // [B, out]
    }
}

/// <summary>
/// Backbone + head under DINO's names (<c>backbone.*</c>, <c>head.*</c>), with its multi-crop forward
/// (<c>MultiCropWrapper</c>): consecutive crops of one resolution go through the backbone together, the [CLS]
/// features of every crop through the head, crop-major (crop 0 of every image, then crop 1, ...).
/// </summary>
public sealed class DinoNetwork : nn.Module
{
    private readonly nn.Module<Tensor, Tensor> backbone;
    private readonly DinoHead head;

    /// <summary>Combines <paramref name="backboneModel"/> and <paramref name="headModel"/>.</summary>
    public DinoNetwork(IDinoBackbone backboneModel, DinoHead headModel) : base(nameof(DinoNetwork))
    {
        backbone = backboneModel.Module;
        head = headModel;
        RegisterComponents();
    }

    /// <summary>The backbone.</summary>
    public IDinoBackbone Backbone => (IDinoBackbone)backbone;

    /// <summary>The head.</summary>
    public DinoHead Head => head;

    /// <summary>Crops, each [B, C, H_v, W_v] → prototype scores [V·B, K], crop-major.</summary>
    public Tensor Forward(IReadOnlyList<Tensor> crops)
    {
        using var scope = NewDisposeScope();
        var features = new List<Tensor>();
        for (int start = 0; start < crops.Count;)
        {
            int end = start + 1;
            while (end < crops.Count && crops[end].shape[2] == crops[start].shape[2] && crops[end].shape[3] == crops[start].shape[3]) end++;
            var group = end - start == 1 ? crops[start] : cat(crops.Skip(start).Take(end - start).ToList(), 0);   // [(end−start)·B, C, H, W]
            features.Add(backbone.forward(group));                                            // [(end−start)·B, d]
            start = end;
        }
        return head.forward(features.Count == 1 ? features[0] : cat(features, 0)).MoveToOuterDisposeScope();   // [V·B, K]
    }

    /// <summary>Trainable parameters (weight_g excluded when its norm is fixed).</summary>
    public long TrainableParameters => parameters().Where(p => p.requires_grad).Sum(p => p.numel());
}
