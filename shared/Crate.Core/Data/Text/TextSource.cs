using System.Text;

namespace Crate.Core.Data.Text;

/// <summary>
/// Raw UTF-8 text sources: one file (plain or gzipped, detected by the gzip magic), or a folder whose
/// <c>.txt</c> and <c>.txt.gz</c> files (top level only) are read in ordinal name order, each file one
/// document. Decoding is strict: invalid UTF-8 is an error naming the file and byte offset, not U+FFFD.
/// </summary>
public static class TextSource
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>The documents of <paramref name="source"/> in reading order.</summary>
    public static IReadOnlyList<string> ListFiles(string source)
    {
        if (File.Exists(source)) return [Path.GetFullPath(source)];
        if (!Directory.Exists(source)) throw new DatasetException(source, DataErrorKind.Missing, "no such text file or folder");
        string[] files = Directory.EnumerateFiles(source)
            .Where(f => f.EndsWith(".txt", StringComparison.OrdinalIgnoreCase) || f.EndsWith(".txt.gz", StringComparison.OrdinalIgnoreCase))
            .Select(Path.GetFullPath)
            .OrderBy(Path.GetFileName, StringComparer.Ordinal)
            .ToArray();
        if (files.Length == 0) throw new DatasetException(source, DataErrorKind.Empty, "folder has no .txt or .txt.gz files");
        return files;
    }

    /// <summary>Reads one document: gunzips if needed, drops a UTF-8 byte-order mark, decodes strictly.</summary>
    public static string ReadText(string path)
    {
        byte[] bytes = DataFiles.ReadAllBytesMaybeGzip(path);
        int skip = bytes.AsSpan().StartsWith("\uFEFF"u8) ? 3 : 0;
        string text;
        try { text = Strict.GetString(bytes, skip, bytes.Length - skip); }
        catch (DecoderFallbackException e)
        {
            string at = e.Index >= 0 ? $" at byte {e.Index + skip}" : "";
            throw new DatasetException(path, DataErrorKind.NotUtf8,
                $"not valid UTF-8{at} (bytes {Convert.ToHexString(e.BytesUnknown ?? [])})", e);
        }
        if (string.IsNullOrWhiteSpace(text)) throw new DatasetException(path, DataErrorKind.Empty, "no text (empty or whitespace only)");
        return text;
    }
}
