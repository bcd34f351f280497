using Crate.Core.Interop;
using Crate.Core.Modules;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Crate.Tests.Modules;

/// <summary>
/// Parity with an independent PyTorch implementation (tools/fixtures/make_crate_fixture.py) and
/// PyTorch-format round trips.
/// </summary>
public class CheckpointInteropTests : IDisposable
{
    // The fixture's shape (see the generator): d 32, L 2, K 4, 8×8 RGB, patch 4, 5 classes.
    private static readonly CrateConfig FixtureConfig =
        new(Dim: 32, Depth: 2, Heads: 4, ImageSize: 8, PatchSize: 4, Channels: 3, NumClasses: 5);

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private readonly string tempDir = Directory.CreateTempSubdirectory("crate-interop-").FullName;

    public void Dispose() => Directory.Delete(tempDir, recursive: true);

    private static (Tensor Images, Tensor Logits) FixtureIo()
    {
        var io = Safetensors.LoadStateDict(Fixture("crate_fixture_io.safetensors"));
        return (io["images"], io["logits"]);
    }

    [Theory]
    [InlineData("crate_fixture.pth", true)]
    [InlineData("crate_fixture.safetensors", true)]
    [InlineData("crate_fixture.pth", false)]
    public void LogitsEqualTheIndependentPyTorchImplementation(string file, bool fast)
    {
        using var scope = NewDisposeScope();
        using var model = new CrateClassifier(FixtureConfig with { Fast = fast });
        Checkpoint.Load(model, Fixture(file));
        model.eval();
        var (images, logits) = FixtureIo();
        using var noGrad = no_grad();
        TensorAssert.Close(logits, model.forward(images), 1e-4, file);
    }

    [Theory]
    [InlineData("roundtrip.pth")]
    [InlineData("roundtrip.safetensors")]
    public void SaveThenLoadGivesTheSameModel(string file)
    {
        using var scope = NewDisposeScope();
        manual_seed(40);
        using var original = new CrateClassifier(FixtureConfig);
        string path = Path.Combine(tempDir, file);
        Checkpoint.Save(original, path);
        using var copy = new CrateClassifier(FixtureConfig);
        Checkpoint.Load(copy, path);
        foreach (var (key, value) in original.state_dict())
            TensorAssert.Close(value, copy.state_dict()[key], 0, key);
        var images = randn(2, 3, 8, 8);
        using var noGrad = no_grad();
        TensorAssert.Close(original.forward(images), copy.forward(images), 0);
    }

    [Fact]
    public void FixtureRoundTripsThroughBothFormats()
    {
        using var scope = NewDisposeScope();
        using var model = new CrateClassifier(FixtureConfig);
        Checkpoint.Load(model, Fixture("crate_fixture.pth"));
        var (images, logits) = FixtureIo();
        foreach (var file in new[] { "fixture.pth", "fixture.safetensors" })
        {
            string path = Path.Combine(tempDir, file);
            Checkpoint.Save(model, path);
            using var copy = new CrateClassifier(FixtureConfig);
            Checkpoint.Load(copy, path);
            using var noGrad = no_grad();
            TensorAssert.Close(logits, copy.forward(images), 1e-4, file);
        }
    }

    [Fact]
    public void SafetensorsHeaderAndPthHoldTheSameKeysAndShapes()
    {
        var fromHeader = StateDictFile.ReadShapes(Fixture("crate_fixture.safetensors"));
        var fromPickle = StateDictFile.ReadShapes(Fixture("crate_fixture.pth"));
        Assert.Equal(fromPickle.Keys.Order(StringComparer.Ordinal), fromHeader.Keys.Order(StringComparer.Ordinal));
        foreach (var (key, shape) in fromPickle)
            Assert.Equal(shape, fromHeader[key]);
        Assert.Equal(CheckpointFormat.PyTorch, StateDictFile.FormatOf(Fixture("crate_fixture.pth")));
    }

    [Fact]
    public void MismatchListsEveryMissingUnexpectedAndMisshapenKey()
    {
        // The fixture (d 32, depth 2, 5 classes) into a model with depth 3 and 7 classes.
        using var model = new CrateClassifier(FixtureConfig with { Depth = 3, NumClasses = 7 });
        var before = model.state_dict()["mlp_head.1.bias"].clone();
        var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(model, Fixture("crate_fixture.safetensors")));
        Assert.Equal(8, e.Missing.Count);                                 // every tensor of layer 2
        Assert.All(e.Missing, k => Assert.StartsWith("transformer.layers.2.", k));
        Assert.Empty(e.Unexpected);
        Assert.Equal(["mlp_head.1.bias", "mlp_head.1.weight"], e.ShapeMismatches.Select(m => m.Key).Order(StringComparer.Ordinal));
        Assert.Contains("transformer.layers.2.1.fn.weight", e.Message);
        Assert.Contains("mlp_head.1.weight: model [7, 32] vs file [5, 32]", e.Message);
        Assert.Contains("crate_fixture.safetensors", e.Message);
        TensorAssert.Close(before, model.state_dict()["mlp_head.1.bias"], 0, "model untouched");

        using var shallow = new CrateClassifier(FixtureConfig with { Depth = 1 });
        var e2 = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(shallow, Fixture("crate_fixture.pth")));
        Assert.Equal(8, e2.Unexpected.Count);
        Assert.Contains("Unexpected keys (8): transformer.layers.1.0.fn.qkv.weight", e2.Message);
    }

    [Fact]
    public void ReferenceCrateGptFileLoadsWhenItsExtraKeysAreIgnored()
    {
        using var scope = NewDisposeScope();
        manual_seed(41);
        var config = new GptConfig(BlockSize: 8, VocabSize: 30, NLayer: 2, NHead: 2, NEmbd: 8);
        using var source = new CrateGptModel(config);
        // A reference-style file: our tensors plus the tied lm_head.weight and the causal buffers.
        var sd = source.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value);
        sd["lm_head.weight"] = sd["transformer.wte.weight"];
        for (int i = 0; i < 2; i++)
            sd[$"transformer.h.{i}.attn.bias"] = ones(8, 8).tril().view(1, 1, 8, 8);
        string path = Path.Combine(tempDir, "crate_gpt_reference.safetensors");
        Safetensors.SaveStateDict(path, sd);

        using var target = new CrateGptModel(config);
        var e = Assert.Throws<CheckpointMismatchException>(() => Checkpoint.Load(target, path));
        Assert.Equal(3, e.Unexpected.Count);
        Checkpoint.Load(target, path, CrateGptModel.ReferenceExtraKeys(config));
        var idx = randint(0, 30, [2, 8]);
        using var noGrad = no_grad();
        TensorAssert.Close(source.forward(idx), target.forward(idx), 0);
    }

    [Fact]
    public void UnreadableFilesRaiseAFormatErrorNamingTheFile()
    {
        using var model = new CrateClassifier(FixtureConfig);
        string junk = Path.Combine(tempDir, "junk.safetensors");
        File.WriteAllBytes(junk, [1, 2, 3]);
        var e = Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(model, junk));
        Assert.Contains("junk.safetensors", e.Message);
        Assert.Throws<CheckpointFormatException>(() => Checkpoint.Load(model, Path.Combine(tempDir, "absent.pth")));
    }

    [Fact]
    public void ShapeIsInferredFromTheFixture()
    {
        var inferred = CrateShapeInference.InferFromFile(Fixture("crate_fixture.pth"), heads: 4);
        Assert.Equal(FixtureConfig, inferred.Config);
        Assert.True(inferred.HeadsDetermined);
        Assert.False(inferred.ChannelsDetermined);        // 48 = 4²·3 fixes it among 1 and 3, noted as such
        var guessed = CrateShapeInference.InferFromFile(Fixture("crate_fixture.safetensors"));
        Assert.False(guessed.HeadsDetermined);
        Assert.Equal(FixtureConfig with { Heads = 2 }, guessed.Config);   // p = 64, 32 excluded (to_out exists) → p = 16
    }

    [Fact]
    public void ShapeInferenceRecognisesNamedConfigsAndGreyscale()
    {
        using var tiny = new CrateClassifier(ModelZoo.CrateMicro);
        var shapes = tiny.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.shape);
        var inferred = CrateShapeInference.Infer(shapes, heads: 4);
        Assert.Equal(ModelZoo.CrateMicro, inferred.Config);
        var s = CrateShapeInference.Infer(new Dictionary<string, long[]>
        {
            ["cls_token"] = [1, 1, 576], ["pos_embedding"] = [1, 197, 576], ["to_patch_embedding.1.weight"] = [768],
            ["mlp_head.1.weight"] = [1000, 576], ["transformer.layers.0.0.fn.qkv.weight"] = [576, 576],
            ["transformer.layers.0.0.fn.to_out.0.weight"] = [576, 576], ["transformer.layers.11.1.fn.weight"] = [576, 576],
        });
        Assert.Equal(ModelZoo.CrateSmall, s.Config);                     // heads 12 from the CRATE-S match
        Assert.Throws<CrateShapeException>(() => CrateShapeInference.Infer(new Dictionary<string, long[]> { ["x"] = [1] }));
    }
}
