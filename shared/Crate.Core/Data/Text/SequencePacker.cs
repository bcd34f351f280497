namespace Crate.Core.Data.Text;

/// <summary>
/// Packs the sentences of ONE document into BERT inputs <c>[CLS] tokens [SEP]</c> of at most <c>maxLength</c>
/// ids: consecutive sentences are added while they fit (<c>maxLength - 2</c> tokens); a sentence that does
/// not fit starts the next sequence; a sentence longer than a whole sequence is cut into full sequences and
/// its rest starts the next one. Sequences never cross documents because each call sees one document.
/// </summary>
public static class SequencePacker
{
    /// <summary>The packed sequences of <paramref name="text"/>, each with [CLS] first and [SEP] last.</summary>
    public static List<int[]> Pack(string text, BertWordPieceTokenizer tokenizer, int maxLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLength, 3);
        int room = maxLength - 2;
        var sequences = new List<int[]>();
        var current = new List<int>(room);
        foreach (string sentence in TextSegmenter.Sentences(text))
        {
            int[] ids = tokenizer.Encode(sentence);
            if (current.Count > 0 && current.Count + ids.Length > room) Flush();
            int at = 0;
            while (ids.Length - at > room)
            {
                current.AddRange(ids.AsSpan(at, room));
                Flush();
                at += room;
            }
            current.AddRange(ids.AsSpan(at));
        }
        if (current.Count > 0) Flush();
        return sequences;

        void Flush()
        {
            sequences.Add(tokenizer.WithSpecials(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(current)));
            current.Clear();
        }
    }
}
