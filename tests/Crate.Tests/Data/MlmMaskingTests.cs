using Crate.Core.Data.Text;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Tests.Data;

public class MlmMaskingTests
{
    // A BERT-like vocabulary: [PAD] 0, [UNK] 100, [CLS] 101, [SEP] 102, [MASK] 103, 30,522 ids.
    private const long Pad = 0, Unk = 100, Cls = 101, Sep = 102, Mask = 103, Vocab = 30522;
    private static readonly long[] Specials = [Pad, Unk, Cls, Sep];

    /// <summary>
    /// [B, T] rows "[CLS] w w ... [SEP] [PAD]...", row b holding T − 2 − (b mod 16) real positions plus one [UNK]
    /// among the words; the attention mask is 1 up to [SEP] and 0 on padding.
    /// </summary>
    private static (Tensor Ids, Tensor Attention) Sentences(int batch, int length)
    {
        var ids = new long[batch * length];
        var attention = new long[batch * length];
        var words = new Random(5);
        for (int b = 0; b < batch; b++)
        {
            int real = length - (b % 16);                       // [CLS] + words + [SEP]
            for (int t = 0; t < length; t++)
            {
                long id = t == 0 ? Cls : t == real - 1 ? Sep : t >= real ? Pad : t == 3 ? Unk : words.Next(1000, (int)Vocab);
                ids[b * length + t] = id;
                attention[b * length + t] = t < real ? 1 : 0;
            }
        }
        return (tensor(ids, [batch, length]), tensor(attention, [batch, length]));
    }

    private static MaskedTokens Masked(Tensor ids, Tensor? attention, long seed, MlmMasking? masking = null)
    {
        using var generator = new Generator((ulong)seed, CPU);
        return (masking ?? new MlmMasking(Mask, Vocab, Specials)).Apply(ids, attention, generator);
    }

    private static long Count(Tensor b) => b.sum().item<long>();

    [Fact]
    public void Fractions_are_bert_s_within_binomial_tolerance()
    {
        using var scope = NewDisposeScope();
        var (ids, attention) = Sentences(64, 512);
        var eligible = attention.ne(0).logical_and(ids.ne(Cls)).logical_and(ids.ne(Sep)).logical_and(ids.ne(Unk));

        var m = Masked(ids, attention, seed: 42);

        long n = Count(eligible), selected = Count(m.Selected);
        long masked = Count(m.Selected.logical_and(m.InputIds.eq(Mask)));
        long kept = Count(m.Selected.logical_and(m.InputIds.eq(ids)));
        long random = selected - masked - kept;
        // 4 standard deviations of a binomial proportion; the 1/30522 chance that a random id equals [MASK] or the
        // original is far below that.
        static void Near(double p, long hits, long trials) =>
            Assert.InRange((double)hits / trials, p - 4 * Math.Sqrt(p * (1 - p) / trials), p + 4 * Math.Sqrt(p * (1 - p) / trials));
        Assert.True(n > 30000);
        Near(0.15, selected, n);
        Near(0.8, masked, selected);
        Near(0.1, random, selected);
        Near(0.1, kept, selected);
    }

    [Fact]
    public void Special_tokens_and_padding_are_never_selected_nor_changed()
    {
        using var scope = NewDisposeScope();
        var (ids, attention) = Sentences(32, 256);
        // [PAD] is deliberately not listed: the attention mask alone must keep padding out.
        var masking = new MlmMasking(Mask, Vocab, [Unk, Cls, Sep], mlmProbability: 1.0);

        var m = Masked(ids, attention, seed: 3, masking);

        var excluded = attention.eq(0).logical_or(ids.eq(Cls)).logical_or(ids.eq(Sep)).logical_or(ids.eq(Unk));
        Assert.Equal(0, Count(m.Selected.logical_and(excluded)));
        Assert.True(Same(m.InputIds.masked_select(excluded), ids.masked_select(excluded)));
        Assert.Equal(Count(excluded.logical_not()), Count(m.Selected));                  // probability 1: every other position
    }

    [Fact]
    public void Labels_are_the_original_ids_exactly_at_the_selected_positions_and_minus_100_elsewhere()
    {
        using var scope = NewDisposeScope();
        var (ids, attention) = Sentences(16, 128);

        var m = Masked(ids, attention, seed: 9);

        Assert.Equal(ScalarType.Int64, m.Labels.dtype);
        Assert.True(Same(m.Labels.masked_select(m.Selected), ids.masked_select(m.Selected)));
        Assert.True(m.Labels.masked_select(m.Selected.logical_not()).eq(MlmMasking.IgnoreIndex).all().item<bool>());
        Assert.True(Same(m.InputIds.masked_select(m.Selected.logical_not()), ids.masked_select(m.Selected.logical_not())));
        Assert.True(m.InputIds.ge(0).logical_and(m.InputIds.lt(Vocab)).all().item<bool>());
    }

    [Fact]
    public void The_same_generator_seed_gives_the_same_masks_and_another_seed_other_masks()
    {
        using var scope = NewDisposeScope();
        var (ids, attention) = Sentences(8, 128);

        var a = Masked(ids, attention, seed: 17);
        var b = Masked(ids, attention, seed: 17);
        var c = Masked(ids, attention, seed: 18);

        Assert.True(Same(a.InputIds, b.InputIds) && Same(a.Labels, b.Labels) && Same(a.Selected, b.Selected));
        Assert.False(Same(a.Selected, c.Selected));
    }

    [Fact]
    public void Fractions_are_configurable()
    {
        using var scope = NewDisposeScope();
        var ids = full(4, 50, 2000L);                                                  // no special token, no padding

        var allMasked = Masked(ids, null, 1, new MlmMasking(Mask, Vocab, Specials, mlmProbability: 1, maskFraction: 1, randomFraction: 0));
        var allKept = Masked(ids, null, 1, new MlmMasking(Mask, Vocab, Specials, mlmProbability: 1, maskFraction: 0, randomFraction: 0));
        var none = Masked(ids, null, 1, new MlmMasking(Mask, Vocab, Specials, mlmProbability: 0));

        Assert.True(allMasked.InputIds.eq(Mask).all().item<bool>());
        Assert.True(allMasked.Labels.eq(2000).all().item<bool>());
        Assert.True(Same(allKept.InputIds, ids) && allKept.Selected.all().item<bool>());
        Assert.False(none.Selected.any().item<bool>());
        Assert.True(none.Labels.eq(MlmMasking.IgnoreIndex).all().item<bool>());
    }

    [Fact]
    public void Bad_settings_and_inputs_are_rejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new MlmMasking(Vocab, Vocab, Specials));
        Assert.Throws<ArgumentOutOfRangeException>(() => new MlmMasking(Mask, Vocab, Specials, mlmProbability: 1.5));
        Assert.Throws<ArgumentException>(() => new MlmMasking(Mask, Vocab, Specials, maskFraction: 0.8, randomFraction: 0.3));
        using var scope = NewDisposeScope();
        using var generator = new Generator(1, CPU);
        var masking = new MlmMasking(Mask, Vocab, Specials);
        Assert.Throws<ArgumentException>(() => masking.Apply(ones(2, 3, dtype: ScalarType.Int32), null, generator));
        Assert.Throws<ArgumentException>(() => masking.Apply(ones(2, 3, dtype: ScalarType.Int64), ones(2, 4), generator));
        Assert.Equal([Pad, Unk, Cls, Sep, Mask], masking.SpecialIds);
    }

    /// <summary>Same shape and every element equal.</summary>
    private static bool Same(Tensor a, Tensor b) => a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
}
