namespace Crate.Core.Data.Text;

/// <summary>What the text pipeline needs from a tokenizer. Implementations are thread-safe.</summary>
public interface ITextTokenizer
{
    /// <summary>A stable name; part of the token cache key, so a different tokenizer re-tokenises.</summary>
    string Name { get; }

    /// <summary>Number of ids; every id is in [0, VocabSize). Token files hold uint16, so at most 65,536.</summary>
    int VocabSize { get; }

    /// <summary>The id appended after every document (GPT-2's <c>&lt;|endoftext|&gt;</c>), or null for none.</summary>
    int? EndOfTextId { get; }

    /// <summary>Encodes <paramref name="text"/>.</summary>
    int[] Encode(string text);

    /// <summary>Encodes <paramref name="text"/> and gives, per token, the index of its first character.</summary>
    (int[] Ids, int[] CharStarts) EncodeWithOffsets(string text);

    /// <summary>Decodes ids back to text.</summary>
    string Decode(IEnumerable<int> ids);
}
