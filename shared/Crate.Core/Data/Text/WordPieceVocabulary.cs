using System.IO.Compression;
using System.Text;

namespace Crate.Core.Data.Text;

/// <summary>
/// A smaller WordPiece vocabulary cut from a larger one by how often a corpus uses its tokens, so a small model
/// pays for a softmax and an embedding over the tokens the corpus needs (the bert task's <c>sotu-vocab</c>, built by
/// <c>Crate.Plugins.Bert.SotuVocabulary</c>).
/// <para>
/// Rule (<see cref="Prune"/>): the corpus is encoded with the larger vocabulary and every token counted. Kept are the
/// five special tokens; every single-character token needed to spell out each used token (of the texts, or of further
/// texts that must only stay spellable) letter by letter (its first
/// character as a word start, the others as <c>##</c> pieces), so that greedy longest-match can still split every
/// word of the corpus without [UNK]; and then the most frequent other used tokens (ties: lower id first) until
/// <c>size</c> tokens. They keep the larger vocabulary's order, so [PAD] stays first. Deterministic: the result
/// depends only on the texts, the vocabulary and the size.
/// </para>
/// </summary>
public static class WordPieceVocabulary
{
    /// <summary>The tokens of the pruned vocabulary of <paramref name="size"/> tokens, in <paramref name="tokenizer"/>'s id order.</summary>
    /// <exception cref="ArgumentException">The specials and the spelling characters alone exceed <paramref name="size"/>.</exception>
    /// <param name="tokenizer">The larger vocabulary.</param>
    /// <param name="texts">The texts whose token counts choose the kept tokens.</param>
    /// <param name="size">Tokens to keep.</param>
    /// <param name="spelled">Further texts that must still encode without [UNK] (only their characters count, not their tokens' frequencies).</param>
    public static IReadOnlyList<string> Prune(BertWordPieceTokenizer tokenizer, IReadOnlyList<string> texts, int size, IReadOnlyList<string>? spelled = null)
    {
        var counts = Counts(tokenizer, texts);
        var used = spelled is null ? counts : Counts(tokenizer, spelled).Zip(counts, (a, b) => a + b).ToArray();
        var keep = new HashSet<int>(tokenizer.SpecialIds);
        for (int id = 0; id < used.Length; id++)
        {
            if (used[id] == 0 || tokenizer.SpecialIds.Contains(id)) continue;
            string token = tokenizer.TokenOf(id);
            bool suffix = token.StartsWith("##", StringComparison.Ordinal);
            string body = suffix ? token[2..] : token;
            for (int i = 0; i < body.Length; i++)
                if (tokenizer.IdOf(i == 0 && !suffix ? body[..1] : "##" + body[i]) is { } piece)
                    keep.Add(piece);
        }
        if (keep.Count > size)
            throw new ArgumentException($"a vocabulary of {size} tokens cannot hold the {keep.Count} special and single-character tokens the corpus needs");
        foreach (int id in Enumerable.Range(0, counts.Length).Where(i => counts[i] > 0 && !keep.Contains(i))
                     .OrderByDescending(i => counts[i]).ThenBy(i => i).Take(size - keep.Count).ToList())
            keep.Add(id);
        return keep.Order().Select(tokenizer.TokenOf).ToArray();
    }

    /// <summary>How often each id of <paramref name="tokenizer"/> occurs in <paramref name="texts"/> (encoded without specials).</summary>
    public static long[] Counts(BertWordPieceTokenizer tokenizer, IReadOnlyList<string> texts)
    {
        var perText = new long[texts.Count][];
        Parallel.For(0, texts.Count, t =>
        {
            var own = new long[tokenizer.VocabSize];
            foreach (int id in tokenizer.Encode(texts[t])) own[id]++;
            perText[t] = own;
        });
        var counts = new long[tokenizer.VocabSize];
        foreach (var own in perText)
            for (int i = 0; i < counts.Length; i++) counts[i] += own[i];
        return counts;
    }

    /// <summary>Writes <paramref name="tokens"/> one a line ('\n' endings) to <paramref name="path"/>, gzipped when it ends in <c>.gz</c>.</summary>
    public static void Write(IReadOnlyList<string> tokens, string path)
    {
        byte[] text = Encoding.UTF8.GetBytes(string.Concat(tokens.Select(t => t + "\n")));
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        using var file = File.Create(path);
        if (path.EndsWith(".gz", StringComparison.OrdinalIgnoreCase))
        {
            using var gzip = new GZipStream(file, CompressionLevel.SmallestSize);
            gzip.Write(text);
        }
        else file.Write(text);
    }
}
