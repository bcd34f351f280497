namespace Crate.Core.Data;

/// <summary>What is wrong with a data file; lets callers and tests tell the causes apart.</summary>
public enum DataErrorKind
{
    /// <summary>A file or folder the dataset needs does not exist.</summary>
    Missing,
    /// <summary>The file ends before the data its header announces.</summary>
    Truncated,
    /// <summary>The file is unreadable as its container (a broken gzip stream, trailing bytes).</summary>
    Corrupt,
    /// <summary>The file does not start with the magic number of its format.</summary>
    BadMagic,
    /// <summary>The file uses a variant of its format that is not supported (e.g. IDX int32 data).</summary>
    Unsupported,
    /// <summary>Two files that must agree do not (image count vs label count).</summary>
    CountMismatch,
    /// <summary>A label is outside the dataset's classes.</summary>
    BadLabel,
    /// <summary>An ImageFolder class folder holds no image files.</summary>
    EmptyClass,
    /// <summary>An image file cannot be decoded.</summary>
    Undecodable,
    /// <summary>A file of fixed-size records has a length that is not a multiple of the record size.</summary>
    BadRecordSize,
    /// <summary>A text source has no text.</summary>
    Empty,
    /// <summary>A text file is not valid UTF-8.</summary>
    NotUtf8,
    /// <summary>A uint16 token file has an odd number of bytes.</summary>
    OddByteCount,
    /// <summary>A token id is not below the tokenizer's vocabulary size.</summary>
    IdOutOfRange,
    /// <summary>The context (block size) needs more tokens than the file holds.</summary>
    ContextTooLong,
}

/// <summary>
/// A dataset file is missing or malformed. The message always starts with the file (or folder) path,
/// then says what is wrong, so a bad input is found before training starts wherever possible.
/// </summary>
public sealed class DatasetException : Contract.BadInputException
{
    /// <summary>Creates the exception; the message is "<paramref name="path"/>: <paramref name="detail"/>".</summary>
    public DatasetException(string path, DataErrorKind kind, string detail, Exception? inner = null)
        : base($"{path}: {detail}", inner)
    {
        FilePath = path;
        Kind = kind;
    }

    /// <summary>The file or folder at fault.</summary>
    public string FilePath { get; }

    /// <summary>The cause.</summary>
    public DataErrorKind Kind { get; }
}
