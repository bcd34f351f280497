namespace Crate.Core.Data.Text;

/// <summary>One bigram-shift example: BERT input ids ([CLS] sentence [SEP]), the label, and where it comes from.</summary>
/// <param name="Ids">[CLS] first and [SEP] last.</param>
/// <param name="Label"><see cref="BigramShift.OriginalLabel"/> or <see cref="BigramShift.ShiftedLabel"/>.</param>
/// <param name="Document">The document's index in the list given to <see cref="BigramShift.Examples"/>.</param>
/// <param name="Sentence">The sentence's index in its document (<see cref="TextSegmenter.Sentences"/>).</param>
/// <param name="SwappedWord">For a shifted sentence, the index of the first of the two swapped words; -1 otherwise.</param>
public sealed record ShiftExample(int[] Ids, int Label, int Document, int Sentence, int SwappedWord);

/// <summary>
/// Bigram shift (Conneau et al. 2018, "What you can cram into a single vector", the SentEval probing task BShift):
/// is this sentence as written, or have two adjacent words been swapped? Both classes have exactly the same bag of
/// tokens, so a bag-of-words classifier is at chance by construction and only word order tells them apart.
/// <para>
/// Rule: every sentence (<see cref="TextSegmenter.Sentences"/>) of every document is WordPiece-encoded; words are
/// a piece not starting with <c>##</c> and the <c>##</c> pieces after it. A sentence is used when it has at least
/// <c>minWords</c> words, at most <c>maxLength - 2</c> pieces, and at least one swappable pair: two adjacent words
/// made of letters only (no digits or punctuation) whose pieces differ. A generator seeded from (seed, document,
/// sentence) then draws the label (shifted with probability 1/2) and, for a shifted sentence, one swappable pair
/// uniformly; the two words trade places, pieces and all. The examples depend on nothing but the text, the
/// vocabulary and the seed (not on thread timing or on which other documents are given).
/// </para>
/// </summary>
public static class BigramShift
{
    /// <summary>The label of a sentence as written.</summary>
    public const int OriginalLabel = 0;

    /// <summary>The label of a sentence with two adjacent words swapped.</summary>
    public const int ShiftedLabel = 1;

    /// <summary>The class names by label.</summary>
    public static readonly IReadOnlyList<string> ClassNames = ["original", "shifted"];

    /// <summary>The examples of <paramref name="documents"/>, in document and sentence order.</summary>
    public static IReadOnlyList<ShiftExample> Examples(IReadOnlyList<(int Index, TextDocument Document)> documents, BertWordPieceTokenizer tokenizer,
        int maxLength, int minWords = 5, ulong seed = 0)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        ArgumentOutOfRangeException.ThrowIfLessThan(minWords, 2);
        var perDocument = new List<ShiftExample>[documents.Count];
        Parallel.For(0, documents.Count, i =>
        {
            var (index, document) = documents[i];
            var list = new List<ShiftExample>();
            var sentences = TextSegmenter.Sentences(document.Text);
            for (int s = 0; s < sentences.Count; s++)
                if (Example(tokenizer.Encode(sentences[s]), tokenizer, maxLength, minWords, DataRng.Derive(seed, index, s)) is { } e)
                    list.Add(e with { Document = index, Sentence = s });
            perDocument[i] = list;
        });
        return perDocument.SelectMany(l => l).ToArray();
    }

    /// <summary>
    /// The example of one encoded sentence <paramref name="pieces"/> (no specials) with its generator seed, or null when
    /// the sentence is not used (see the class summary). <see cref="ShiftExample.Document"/> and <see cref="ShiftExample.Sentence"/> are 0.
    /// </summary>
    public static ShiftExample? Example(int[] pieces, BertWordPieceTokenizer tokenizer, int maxLength, int minWords, ulong generatorSeed)
    {
        if (pieces.Length > maxLength - 2) return null;
        var words = Words(pieces, tokenizer);
        if (words.Count < minWords) return null;
        var pairs = new List<int>();
        for (int w = 0; w + 1 < words.Count; w++)
            if (IsLetters(pieces, words[w], tokenizer) && IsLetters(pieces, words[w + 1], tokenizer)
                && !pieces.AsSpan(words[w].Start, words[w].Length).SequenceEqual(pieces.AsSpan(words[w + 1].Start, words[w + 1].Length)))
                pairs.Add(w);
        if (pairs.Count == 0) return null;
        var rng = new DataRng(generatorSeed);
        if (rng.NextInt(2) == OriginalLabel)
            return new ShiftExample(tokenizer.WithSpecials(pieces), OriginalLabel, 0, 0, -1);
        int first = pairs[rng.NextInt(pairs.Count)];
        return new ShiftExample(tokenizer.WithSpecials(Swap(pieces, words[first], words[first + 1])), ShiftedLabel, 0, 0, first);
    }

    /// <summary>The words of <paramref name="pieces"/>: (start, length) in pieces, a word being a piece without <c>##</c> and the <c>##</c> pieces after it.</summary>
    public static IReadOnlyList<(int Start, int Length)> Words(ReadOnlySpan<int> pieces, BertWordPieceTokenizer tokenizer)
    {
        var words = new List<(int, int)>();
        int start = 0;
        for (int i = 1; i <= pieces.Length; i++)
            if (i == pieces.Length || !tokenizer.TokenOf(pieces[i]).StartsWith("##", StringComparison.Ordinal))
            {
                if (pieces.Length > 0) words.Add((start, i - start));
                start = i;
            }
        return words;
    }

    /// <summary><paramref name="pieces"/> with the adjacent words <paramref name="a"/> and <paramref name="b"/> (a right before b) swapped.</summary>
    public static int[] Swap(ReadOnlySpan<int> pieces, (int Start, int Length) a, (int Start, int Length) b)
    {
        if (a.Start + a.Length != b.Start) throw new ArgumentException($"words at {a.Start} (+{a.Length}) and {b.Start} are not adjacent");
        return [.. pieces[..a.Start], .. pieces.Slice(b.Start, b.Length), .. pieces.Slice(a.Start, a.Length), .. pieces[(b.Start + b.Length)..]];
    }

    private static bool IsLetters(int[] pieces, (int Start, int Length) word, BertWordPieceTokenizer tokenizer)
    {
        for (int i = word.Start; i < word.Start + word.Length; i++)
        {
            string token = tokenizer.TokenOf(pieces[i]);
            if (tokenizer.SpecialIds.Contains(pieces[i])) return false;
            foreach (char c in i == word.Start ? token : token[2..])
                if (!char.IsLetter(c)) return false;
        }
        return true;
    }
}
