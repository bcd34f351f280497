using Crate.Core.Data.Text;

namespace Crate.Plugins.Bert;

/// <summary>The shipped <c>data/sotu-vocab</c> (<c>data.vocab=sotu-vocab</c>): bert-base-uncased cut by <see cref="WordPieceVocabulary.Prune"/>.</summary>
public static class SotuVocabulary
{
    /// <summary>The size of the shipped vocabulary.</summary>
    public const int Size = 4096;

    /// <summary>
    /// <see cref="WordPieceVocabulary.Prune"/> with the token counts of the State of the Union addresses that the bert task may
    /// pre-train on: every address except the party task's test addresses (<see cref="SotuPartySplit.ReservedDocumentIds"/>),
    /// whose token frequencies no choice may depend on. Their characters still count (<c>spelled</c>), so that the test
    /// addresses, like every other, encode without [UNK], as they do with bert-base-uncased.
    /// </summary>
    public static IReadOnlyList<string> Build(BertWordPieceTokenizer tokenizer, IReadOnlyList<SotuAddress> addresses, int size = Size)
    {
        var reserved = SotuPartySplit.Create(addresses).ReservedDocumentIds;
        string[] Texts(bool test) => SotuCorpus.ReadDocuments(addresses.Where(a => reserved.Contains(a.Id) == test)).Select(d => d.Text).ToArray();
        return WordPieceVocabulary.Prune(tokenizer, Texts(false), size, spelled: Texts(true));
    }
}
