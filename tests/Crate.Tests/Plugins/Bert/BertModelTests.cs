using Crate.Core.Modules;
using Crate.Tests.Modules;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Plugins.Bert;

/// <summary>The whole masked-LM models in Core: names, positions, padding, gradients.</summary>
public sealed class BertModelTests
{
    [Fact]
    public void Bert_has_hugging_face_top_level_names_and_no_pooler()
    {
        using var model = new BertForMaskedLM(BertFixtureTests.BertShape);
        var keys = model.state_dict().Keys.ToList();
        Assert.Contains("bert.embeddings.word_embeddings.weight", keys);
        Assert.Contains("bert.encoder.layer.1.output.LayerNorm.bias", keys);
        Assert.Contains("cls.predictions.transform.dense.weight", keys);
        Assert.Contains("cls.predictions.transform.LayerNorm.weight", keys);
        Assert.Contains("cls.predictions.bias", keys);
        Assert.DoesNotContain(keys, k => k.Contains("pooler") || k.Contains("decoder"));
        Assert.Equal(BertFixtureTests.BertShape.BertParameterCount(), ModuleInit.CountParameters(model));
    }

    [Fact]
    public void Roberta_positions_start_after_the_padding_id_and_padding_gets_the_padding_id()
    {
        using var model = new CrateBertForMaskedLM(BertFixtureTests.CrateShape);   // pad 1
        var ids = tensor(new long[] { 5, 6, 7, 1, 1, 9, 9, 9, 1, 1 }, [2, 5]);
        var positions = model.Embeddings.PositionIds(ids);
        Assert.Equal(new long[] { 2, 3, 4, 1, 1, 2, 3, 4, 1, 1 }, positions.data<long>().ToArray());
        Assert.Equal(12 - 1 - 1, model.MaxLength);
        Assert.Throws<ArgumentException>(() => model.Encode(ones(1, 11, ScalarType.Int64) * 5, null));
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Padding_does_not_change_the_real_tokens(bool crate)
    {
        using var scope = NewDisposeScope();
        manual_seed(7);
        IMaskedLanguageModel model = crate ? new CrateBertForMaskedLM(BertFixtureTests.CrateShape) : new BertForMaskedLM(BertFixtureTests.BertShape);
        using var module = (nn.Module)model;
        module.eval();
        long pad = model.Config.PadTokenId;
        var real = tensor(new long[] { 3, 9, 12, 30, 4 }, [1, 5]);
        var padded = cat([real, full(1, 3, pad, ScalarType.Int64)], 1);                       // [1, 8]
        var mask = tensor(new[] { false, false, false, false, false, true, true, true }, [1, 8]);
        using var noGrad = no_grad();
        var alone = model.Logits(model.Encode(real, null));
        var withPad = model.Logits(model.Encode(padded, mask)).narrow(1, 0, 5);
        TensorAssert.Close(alone, withPad, 1e-5);
    }

    [Fact]
    public void The_decoder_is_the_word_embedding_and_every_parameter_gets_a_gradient()
    {
        using var scope = NewDisposeScope();
        manual_seed(8);
        using var model = new CrateBertForMaskedLM(BertFixtureTests.CrateShape);
        var ids = randint(2, 40, [2, 6]);
        var logits = model.forward(ids);                                                        // [2, 6, 40]
        nn.functional.cross_entropy(logits.view(-1, 40), ids.view(-1)).backward();
        TensorAssert.AllParametersHaveGradients(model);
        var h = model.Encode(ids, null);
        var byHand = nn.functional.linear(model.lm_head.layer_norm.forward(nn.functional.gelu(model.lm_head.dense.forward(h))),
            model.crate.embeddings.word_embeddings.weight!, model.lm_head.bias);
        TensorAssert.Close(byHand, model.forward(ids), 1e-5);
    }

    [Fact]
    public void Layer_ids_for_layer_decay_follow_the_hugging_face_names()
    {
        using var model = new BertForMaskedLM(BertFixtureTests.BertShape);
        using var classifier = new MaskedLmClassifier(model, 2, 0.0);
        Assert.Equal(0, classifier.LayerOf("mlm.bert.embeddings.word_embeddings.weight"));
        Assert.Equal(1, classifier.LayerOf("mlm.bert.encoder.layer.0.attention.self.query.weight"));
        Assert.Equal(2, classifier.LayerOf("mlm.bert.encoder.layer.1.output.dense.bias"));
        Assert.Equal(3, classifier.LayerOf("mlm.cls.predictions.bias"));
        Assert.Equal(3, classifier.LayerOf("classifier.out_proj.weight"));
    }

    [Fact]
    public void Freezing_the_mlm_head_keeps_the_tied_embedding_and_the_encoder_trainable()
    {
        using var model = new CrateBertForMaskedLM(BertFixtureTests.CrateShape);
        using var classifier = new MaskedLmClassifier(model, 2, 0.0);
        Assert.Equal(5, classifier.FreezeMlmHead());                        // lm_head.dense.{weight,bias}, layer_norm.{weight,bias}, bias
        var trainable = classifier.named_parameters().Where(p => p.parameter.requires_grad).Select(p => p.name).ToList();
        Assert.Contains("mlm.crate.embeddings.word_embeddings.weight", trainable);
        Assert.Contains("mlm.crate.encoder.layer.1.output.weight", trainable);
        Assert.Contains("classifier.out_proj.weight", trainable);
        Assert.DoesNotContain(trainable, n => n.StartsWith("mlm.lm_head.", StringComparison.Ordinal));
    }
}
