using System.Buffers.Binary;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

/// <summary>A character-level tokenizer for split tests: id = UTF-16 code unit (ASCII text), end-of-text = 3.</summary>
public sealed class CharTokenizer(string name = "chars") : ITextTokenizer
{
    public string Name => name;
    public int VocabSize => 128;
    public int? EndOfTextId => 3;
    public int[] Encode(string text) => text.Select(c => (int)c).ToArray();
    public (int[] Ids, int[] CharStarts) EncodeWithOffsets(string text) => (Encode(text), Enumerable.Range(0, text.Length).ToArray());
    public string Decode(IEnumerable<int> ids) => new(ids.Select(i => (char)i).ToArray());
}

public static class TokenBytes
{
    /// <summary>Little-endian uint16 bytes, as numpy's <c>np.array(ids, dtype=np.uint16).tofile</c> writes on x86.</summary>
    public static byte[] Of(IEnumerable<int> ids)
    {
        int[] all = ids.ToArray();
        var bytes = new byte[all.Length * 2];
        for (int i = 0; i < all.Length; i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(2 * i), (ushort)all[i]);
        return bytes;
    }
}
