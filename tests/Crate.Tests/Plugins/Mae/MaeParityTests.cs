using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Tests.Modules;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Mae;

/// <summary>
/// Parity of CRATE-MAE and MAE with an independent PyTorch implementation written from the formulas
/// (tools/fixtures/make_mae_fixture.py): the reference-named state_dicts (.pth and .safetensors) load, and with
/// the fixture's shuffle noise (so both sides mask the same patches) the reconstruction loss, the predicted
/// patches and the unmasked encoder features agree within 1e-4.
/// </summary>
public class MaeParityTests
{
    /// <summary>The fixture's CRATE-MAE: d 16, 2 + 2 layers, 2 heads, 8×8 RGB, patch 2, η 0.1, λ 0.5.</summary>
    public static readonly MaeConfig CrateFixture = new(MaeKind.Crate, Dim: 16, Depth: 2, Heads: 2, DecoderDim: 16, DecoderDepth: 2,
        DecoderHeads: 2, ImageSize: 8, PatchSize: 2, Channels: 3, Eta: 0.1, Lambda: 0.5);

    /// <summary>The fixture's MAE: d 16, 2 blocks, 2 heads; decoder d 8, 1 block, 2 heads; mlp ratio 2.</summary>
    public static readonly MaeConfig VitFixture = new(MaeKind.Vit, Dim: 16, Depth: 2, Heads: 2, DecoderDim: 8, DecoderDepth: 1,
        DecoderHeads: 2, ImageSize: 8, PatchSize: 2, Channels: 3, MlpRatio: 2);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    /// <summary>A model of <paramref name="config"/> with the fixture's weights.</summary>
    public static IMaskedAutoencoder Load(MaeConfig config, string file)
    {
        nn.Module model = config.Kind == MaeKind.Crate ? new CrateMae(config) : new MaeVit(config);
        Checkpoint.Load(model, Fixture(file));
        model.eval();
        return (IMaskedAutoencoder)model;
    }

    [Theory]
    [InlineData("crate", ".pth", false)]
    [InlineData("crate", ".safetensors", false)]
    [InlineData("crate", ".pth", true)]
    [InlineData("vit", ".pth", false)]
    [InlineData("vit", ".safetensors", false)]
    [InlineData("vit", ".safetensors", true)]
    public void LossPredictionAndFeaturesEqualTheIndependentImplementation(string model, string extension, bool normPix)
    {
        using var scope = NewDisposeScope();
        var config = (model == "crate" ? CrateFixture : VitFixture) with { NormPixLoss = normPix };
        var mae = Load(config, $"mae_{model}_fixture{extension}");
        var io = Safetensors.LoadStateDict(Fixture("mae_fixture_io.safetensors"));
        using var noGrad = no_grad();
        using var mask = MaeMask.FromNoise(io["noise"], MaeMask.KeepFor(config.NumPatches, 0.75));
        TensorAssert.Close(io["mask"], mask.Mask, 0, "mask");

        var output = mae.Forward(io["images"], mask);
        double expected = io[$"{model}_loss{(normPix ? "_normpix" : "")}"].ToDouble();
        Assert.Equal(expected, output.Loss.ToDouble(), 1e-4);
        TensorAssert.Close(io[$"{model}_pred"], output.Prediction, 1e-4, "pred");
        TensorAssert.Close(io[$"{model}_features"], mae.Encode(io["images"]), 1e-4, "features");
    }

    [Fact]
    public void PositionTableEqualsTheFixturesHandBuiltTable()
    {
        using var scope = NewDisposeScope();
        var sd = StateDictFile.Read(Fixture("mae_vit_fixture.safetensors"));
        TensorAssert.Close(sd["pos_embed"], SinCosPositions.Table2D(16, 4), 1e-6, "pos_embed");
        TensorAssert.Close(sd["decoder_pos_embed"], SinCosPositions.Table2D(8, 4), 1e-6, "decoder_pos_embed");
        foreach (var t in sd.Values) t.Dispose();
    }

    [Fact]
    public void SavedStateDictsCarryTheReferenceNamesAndLoadBack()
    {
        using var scope = NewDisposeScope();
        string dir = Directory.CreateTempSubdirectory("mae-interop-").FullName;
        try
        {
            foreach (var config in new[] { CrateFixture, VitFixture })
            {
                var file = config.Kind == MaeKind.Crate ? "mae_crate_fixture.pth" : "mae_vit_fixture.pth";
                var original = (nn.Module)Load(config, file);
                string path = Path.Combine(dir, "copy.safetensors");
                Checkpoint.Save(original, path);
                var fileNames = StateDictFile.ReadShapes(Fixture(file)).Keys.OrderBy(k => k, StringComparer.Ordinal);
                Assert.Equal(fileNames, StateDictFile.ReadShapes(path).Keys.OrderBy(k => k, StringComparer.Ordinal));
                var copy = Load(config, file);
                Checkpoint.Load((nn.Module)copy, path);
                var images = randn(2, 3, 8, 8);
                using var noGrad = no_grad();
                TensorAssert.Close(((IMaskedAutoencoder)original).Encode(images), copy.Encode(images), 0);
            }
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
