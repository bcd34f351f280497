using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

/// <summary>A tiny WordPiece vocabulary for packing tests: [PAD]=0 [UNK]=1 [CLS]=2 [SEP]=3 [MASK]=4 a=5 b=6 c=7 d=8 .=9 !=10.</summary>
public static class TinyBert
{
    public static readonly string[] Lines = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "a", "b", "c", "d", ".", "!"];

    public static BertWordPieceTokenizer Create(TempDir dir)
    {
        string path = dir.File("tiny-vocab.txt");
        File.WriteAllText(path, string.Join("\n", Lines) + "\n");
        return BertWordPieceTokenizer.Load(path);
    }
}
