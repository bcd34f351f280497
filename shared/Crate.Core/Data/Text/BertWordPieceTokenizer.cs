using System.Security.Cryptography;
using System.Text;
using Microsoft.ML.Tokenizers;

namespace Crate.Core.Data.Text;

/// <summary>
/// BERT's WordPiece tokenizer over any <c>vocab.txt</c> (one token a line, id = line number - 1; plain or
/// gzipped, detected by the gzip magic), built on Microsoft.ML.Tokenizers 2.0.1's <see cref="BertTokenizer"/>.
/// With <c>lowerCase</c> (the default, as bert-base-uncased) the text is lower-cased and its accents are
/// stripped (Unicode NFD, non-spacing marks removed) before the basic tokenization (split at whitespace and
/// punctuation, CJK characters one by one) and the greedy longest-match WordPiece split into <c>##</c> pieces.
/// <see cref="Encode"/> gives ids without special tokens; the special ids are looked up by their token text,
/// and a vocabulary lacking any of [PAD] [UNK] [CLS] [SEP] [MASK] is rejected. Thread-safe.
/// </summary>
public sealed class BertWordPieceTokenizer : ITextTokenizer
{
    /// <summary>The text of the padding token.</summary>
    public const string PadToken = "[PAD]";
    /// <summary>The text of the unknown-word token.</summary>
    public const string UnkToken = "[UNK]";
    /// <summary>The text of the classification token that starts every sequence.</summary>
    public const string ClsToken = "[CLS]";
    /// <summary>The text of the separator token that ends every segment.</summary>
    public const string SepToken = "[SEP]";
    /// <summary>The text of the masking token of masked-language-model training.</summary>
    public const string MaskToken = "[MASK]";

    /// <summary>The file name of the shipped bert-base-uncased vocabulary inside <c>data/bert-vocab/</c>.</summary>
    public const string ShippedVocabFileName = "vocab.txt.gz";

    private static readonly string[] Specials = [PadToken, UnkToken, ClsToken, SepToken, MaskToken];

    private readonly string[] _tokens;
    private readonly Dictionary<string, int> _ids;

    private BertWordPieceTokenizer(string path, string[] tokens, Dictionary<string, int> ids, BertTokenizer inner, bool lowerCase, string hash)
    {
        VocabPath = path;
        _tokens = tokens;
        _ids = ids;
        Inner = inner;
        LowerCase = lowerCase;
        Name = $"wordpiece-{(lowerCase ? "uncased" : "cased")}-{hash}";
        PadId = ids[PadToken];
        UnkId = ids[UnkToken];
        ClsId = ids[ClsToken];
        SepId = ids[SepToken];
        MaskId = ids[MaskToken];
        SpecialIds = new HashSet<int> { PadId, UnkId, ClsId, SepId, MaskId };
    }

    /// <summary>
    /// Loads <paramref name="vocabPath"/> (<c>vocab.txt</c> or <c>vocab.txt.gz</c>). Errors are
    /// <see cref="DatasetException"/>s naming the file: missing file, broken gzip, not UTF-8, empty, a missing
    /// special token (all missing ones are listed), a token on two lines.
    /// </summary>
    public static BertWordPieceTokenizer Load(string vocabPath, bool lowerCase = true)
    {
        string path = Path.GetFullPath(vocabPath);
        string text = TextSource.ReadText(path);
        string[] tokens = text.Split('\n');
        if (tokens[^1].Length == 0) tokens = tokens[..^1];
        for (int i = 0; i < tokens.Length; i++) tokens[i] = tokens[i].TrimEnd('\r');

        var ids = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++)
            if (!ids.TryAdd(tokens[i], i))
                throw new DatasetException(path, DataErrorKind.Corrupt, $"line {i + 1}: token '{tokens[i]}' repeats line {ids[tokens[i]] + 1}");
        string[] missing = Specials.Where(s => !ids.ContainsKey(s)).ToArray();
        if (missing.Length > 0)
            throw new DatasetException(path, DataErrorKind.Missing,
                $"the vocabulary lacks the special token(s) {string.Join(" ", missing)} ({tokens.Length} lines read)");

        byte[] canonical = Encoding.UTF8.GetBytes(string.Join('\n', tokens) + "\n");
        var options = new BertOptions
        {
            LowerCaseBeforeTokenization = lowerCase,
            RemoveNonSpacingMarks = lowerCase,
            ApplyBasicTokenization = true,
            SplitOnSpecialTokens = true,
            IndividuallyTokenizeCjk = true,
            UnknownToken = UnkToken,
            PaddingToken = PadToken,
            ClassificationToken = ClsToken,
            SeparatorToken = SepToken,
            MaskingToken = MaskToken,
        };
        BertTokenizer inner;
        using (var stream = new MemoryStream(canonical)) inner = BertTokenizer.Create(stream, options);
        string hash = Convert.ToHexStringLower(SHA256.HashData(canonical))[..12];
        return new BertWordPieceTokenizer(path, tokens, ids, inner, lowerCase, hash);
    }

    /// <summary>The vocabulary file this tokenizer was loaded from (full path).</summary>
    public string VocabPath { get; }

    /// <summary>The underlying Microsoft.ML.Tokenizers tokenizer.</summary>
    public BertTokenizer Inner { get; }

    /// <summary>Whether text is lower-cased and accent-stripped before tokenization (bert-base-uncased: true).</summary>
    public bool LowerCase { get; }

    /// <summary>"wordpiece-uncased-" (or "-cased-") and the first 12 hex digits of the vocabulary's SHA-256.</summary>
    public string Name { get; }

    /// <inheritdoc/>
    public int VocabSize => _tokens.Length;

    /// <summary>[SEP]: a document separator when the tokenizer feeds <see cref="TextCorpus"/>.</summary>
    public int? EndOfTextId => SepId;

    /// <summary>The id of [PAD] (0 in bert-base-uncased).</summary>
    public int PadId { get; }

    /// <summary>The id of [UNK] (100 in bert-base-uncased).</summary>
    public int UnkId { get; }

    /// <summary>The id of [CLS] (101 in bert-base-uncased).</summary>
    public int ClsId { get; }

    /// <summary>The id of [SEP] (102 in bert-base-uncased).</summary>
    public int SepId { get; }

    /// <summary>The id of [MASK] (103 in bert-base-uncased).</summary>
    public int MaskId { get; }

    /// <summary>The ids of the five special tokens ([PAD] [UNK] [CLS] [SEP] [MASK]).</summary>
    public IReadOnlySet<int> SpecialIds { get; }

    /// <summary>The token text of <paramref name="id"/> (its vocabulary line).</summary>
    public string TokenOf(int id) => _tokens[id];

    /// <summary>The id of the vocabulary line <paramref name="token"/>, or null.</summary>
    public int? IdOf(string token) => _ids.TryGetValue(token, out int id) ? id : null;

    /// <summary>Encodes <paramref name="text"/> into WordPiece ids, without [CLS] and [SEP].</summary>
    public int[] Encode(string text) => [.. Inner.EncodeToIds(text, addSpecialTokens: false)];

    /// <summary>
    /// Encodes <paramref name="text"/> and gives, per token, the index of the first character of the
    /// whitespace-separated word it comes from (normalization can change lengths, so pieces of one word
    /// share its start). The ids equal <see cref="Encode"/>'s: BERT never joins across whitespace.
    /// </summary>
    public (int[] Ids, int[] CharStarts) EncodeWithOffsets(string text)
    {
        var ids = new List<int>();
        var starts = new List<int>();
        int i = 0;
        while (i < text.Length)
        {
            while (i < text.Length && char.IsWhiteSpace(text[i])) i++;
            int start = i;
            while (i < text.Length && !char.IsWhiteSpace(text[i])) i++;
            if (i == start) break;
            foreach (int id in Inner.EncodeToIds(text[start..i], addSpecialTokens: false))
            {
                ids.Add(id);
                starts.Add(start);
            }
        }
        return ([.. ids], [.. starts]);
    }

    /// <summary>
    /// Decodes ids to text: tokens joined by spaces, <c>##</c> continuations glued to the piece before, the space
    /// before punctuation dropped (Microsoft.ML.Tokenizers' rule: "transformer' s"), special tokens kept.
    /// </summary>
    public string Decode(IEnumerable<int> ids) => Inner.Decode(ids, skipSpecialTokens: false);

    /// <summary>[CLS] <paramref name="ids"/> [SEP]: a single-segment BERT input.</summary>
    public int[] WithSpecials(ReadOnlySpan<int> ids) => [ClsId, .. ids, SepId];

    /// <summary>[CLS] <paramref name="first"/> [SEP] <paramref name="second"/> [SEP]: a sentence-pair BERT input.</summary>
    public int[] WithSpecials(ReadOnlySpan<int> first, ReadOnlySpan<int> second) => [ClsId, .. first, SepId, .. second, SepId];
}
