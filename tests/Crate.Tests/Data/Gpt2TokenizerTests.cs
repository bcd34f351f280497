using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class Gpt2TokenizerTests
{
    private static Gpt2Tokenizer Gpt2 => Gpt2Tokenizer.Shared;

    [Fact]
    public void Known_ids_and_exact_round_trip()
    {
        Assert.Equal([15496, 995, 0], Gpt2.Encode("Hello world!"));
        const string text = "Hello world! CRATE is a white-box transformer, and it compresses tokens.";
        int[] ids = Gpt2.Encode(text);
        Assert.Equal([15496, 995, 0, 8740, 6158, 318, 257, 2330, 12, 3524, 47385, 11, 290, 340, 552, 16746, 16326, 13], ids);
        Assert.Equal(text, Gpt2.Decode(ids));
        string unicode = "Call me Ishmael—never mind “how long”.\n\nÉtude";
        Assert.Equal(unicode, Gpt2.Decode(Gpt2.Encode(unicode)));
    }

    [Fact]
    public void Vocabulary_and_end_of_text()
    {
        Assert.Equal(50257, Gpt2.VocabSize);
        Assert.Equal(50256, Gpt2.EndOfTextId);
        Assert.Equal("gpt2", Gpt2.Name);
        Assert.Equal("<|endoftext|>", Gpt2.Decode([50256]));
        Assert.Equal([64, 50256, 65], Gpt2.Encode("a<|endoftext|>b"));   // documented: special, unlike encode_ordinary
    }

    [Fact]
    public void End_of_text_stays_special_after_the_library_cache_is_full()
    {
        // Microsoft.ML.Tokenizers keeps special tokens only in its LRU word cache; thousands of distinct
        // words evict them. The wrapper must not depend on that.
        string words = string.Join(" ", Enumerable.Range(0, 30_000).Select(i => $"w{i}q"));
        Gpt2.Encode(words);

        Assert.Equal([64, 50256, 65, 50256], Gpt2.Encode("a<|endoftext|>b<|endoftext|>"));
        var (ids, starts) = Gpt2.EncodeWithOffsets("Hi<|endoftext|>Hi");
        Assert.Equal([17250, 50256, 17250], ids);
        Assert.Equal([0, 2, 15], starts);
    }

    [Fact]
    public void Offsets_point_at_each_token_text()
    {
        const string text = "héllo wörld\n\nnext";
        var (ids, starts) = Gpt2.EncodeWithOffsets(text);

        Assert.Equal(Gpt2.Encode(text), ids);
        Assert.Equal(0, starts[0]);
        Assert.True(starts.Zip(starts.Skip(1)).All(p => p.First <= p.Second));
        Assert.Equal(text.IndexOf("next", StringComparison.Ordinal), starts[^1]);
    }
}
