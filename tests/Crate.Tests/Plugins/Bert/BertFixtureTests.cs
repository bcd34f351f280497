using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Tests.Modules;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Bert;

/// <summary>
/// Parity of <see cref="BertForMaskedLM"/> and <see cref="CrateBertForMaskedLM"/> with an independent PyTorch
/// implementation written from the formulas (tools/fixtures/make_bert_fixture.py): its Hugging Face-named
/// state_dicts (tied decoder and position_ids buffer included) load here and give its MLM logits within 1e-4.
/// </summary>
public sealed class BertFixtureTests : IDisposable
{
    // The fixture's shape (see the generator): V 40, d 16, L 2, 2 heads, MLP 32, 12 positions, 2 token types.
    internal static readonly BertModelConfig BertShape = new(VocabSize: 40, HiddenSize: 16, NumLayers: 2, NumHeads: 2, IntermediateSize: 32,
        MaxPositions: 12, PadTokenId: 0, HiddenDropout: 0, AttentionDropout: 0);
    internal static readonly BertModelConfig CrateShape = BertShape with { PadTokenId = 1 };

    private static string Fixture(string name) => Path.Combine(AppContext.BaseDirectory, "Fixtures", name);

    private readonly string tempDir = Directory.CreateTempSubdirectory("crate-bert-fixture-").FullName;

    public void Dispose() => Directory.Delete(tempDir, recursive: true);

    private static IMaskedLanguageModel Build(string which, bool fast) => which == "bert"
        ? new BertForMaskedLM(BertShape with { Fast = fast })
        : new CrateBertForMaskedLM(CrateShape with { Fast = fast });

    [Theory]
    [InlineData("bert", "bert_mlm_fixture.pth", true)]
    [InlineData("bert", "bert_mlm_fixture.safetensors", true)]
    [InlineData("bert", "bert_mlm_fixture.pth", false)]
    [InlineData("crate", "crate_bert_mlm_fixture.pth", true)]
    [InlineData("crate", "crate_bert_mlm_fixture.safetensors", true)]
    [InlineData("crate", "crate_bert_mlm_fixture.safetensors", false)]
    public void Logits_equal_the_independent_PyTorch_implementation(string which, string file, bool fast)
    {
        using var scope = NewDisposeScope();
        var model = Build(which, fast);
        using var module = (nn.Module)model;
        MaskedLmCheckpoint.Load(model, Fixture(file));
        module.eval();
        var io = Safetensors.LoadStateDict(Fixture("bert_mlm_fixture_io.safetensors"));
        var ids = io[$"{which}_ids"];
        var padding = io[$"{which}_mask"].eq(0);                                       // HF mask 1 = real → true = padding
        using var noGrad = no_grad();
        var logits = model.Logits(model.Encode(ids, padding));                        // [B, T, V]
        Assert.Equal(new long[] { 2, 8, 40 }, logits.shape);
        TensorAssert.Close(io[$"{which}_logits"].to(ScalarType.Float32), logits, 1e-4, file);
    }

    [Theory]
    [InlineData("bert", "bert_mlm_fixture.safetensors")]
    [InlineData("crate", "crate_bert_mlm_fixture.safetensors")]
    public void The_file_holds_our_names_plus_the_tied_decoder_and_buffers(string which, string file)
    {
        var model = Build(which, true);
        using var module = (nn.Module)model;
        var expected = module.state_dict().Keys.Concat(model.TiedKeys.Keys).ToHashSet();
        var fileKeys = StateDictFile.ReadShapes(Fixture(file)).Keys.Where(k => !k.EndsWith("position_ids", StringComparison.Ordinal)).ToHashSet();
        Assert.Equal(expected.Order(StringComparer.Ordinal), fileKeys.Order(StringComparer.Ordinal));
    }

    [Fact]
    public void An_untied_decoder_is_rejected_naming_the_file_and_key()
    {
        using var scope = NewDisposeScope();
        var sd = Safetensors.LoadStateDict(Fixture("bert_mlm_fixture.safetensors"));
        sd["cls.predictions.decoder.weight"] = sd["cls.predictions.decoder.weight"] + 1;
        string path = Path.Combine(tempDir, "untied.safetensors");
        Safetensors.SaveStateDict(path, sd);
        var model = Build("bert", true);
        using var module = (nn.Module)model;
        var e = Assert.Throws<CheckpointFormatException>(() => MaskedLmCheckpoint.Load(model, path));
        Assert.Contains(path, e.Message);
        Assert.Contains("cls.predictions.decoder.weight", e.Message);
    }

    [Theory]
    [InlineData("bert", "ours.pth")]
    [InlineData("crate", "ours.safetensors")]
    public void Our_saved_state_dict_loads_back_with_the_same_logits(string which, string file)
    {
        using var scope = NewDisposeScope();
        manual_seed(3);
        var original = Build(which, true);
        using var a = (nn.Module)original;
        a.eval();
        string path = Path.Combine(tempDir, file);
        Checkpoint.Save(a, path);
        var copy = Build(which, true);
        using var b = (nn.Module)copy;
        b.eval();
        MaskedLmCheckpoint.Load(copy, path);
        var ids = randint(2, 40, [2, 6]);
        using var noGrad = no_grad();
        TensorAssert.Close(original.Logits(original.Encode(ids, null)), copy.Logits(copy.Encode(ids, null)), 0, file);
    }
}
