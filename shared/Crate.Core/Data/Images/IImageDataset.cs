namespace Crate.Core.Data.Images;

/// <summary>
/// A labelled image dataset as the batch loader sees it: in memory (<see cref="ImageDataset"/>) or read
/// lazily from disk (<see cref="ImageFolderDataset"/>). <see cref="GetImage(int)"/> and <see cref="GetLabel"/>
/// are called from the loader's thread(s) and must be thread-safe.
/// </summary>
public interface IImageDataset
{
    /// <summary>A short name for messages and logs (e.g. "fashion-mnist/train").</summary>
    string Name { get; }

    /// <summary>Number of samples.</summary>
    int Count { get; }

    /// <summary>Channels of every image <see cref="GetImage(int)"/> returns (1 or 3).</summary>
    int Channels { get; }

    /// <summary>Class names; label <c>k</c> is <c>ClassNames[k]</c>.</summary>
    IReadOnlyList<string> ClassNames { get; }

    /// <summary>The label of sample <paramref name="index"/>.</summary>
    int GetLabel(int index);

    /// <summary>The pixels of sample <paramref name="index"/> (a fresh copy the caller may modify).</summary>
    ByteImage GetImage(int index);

    /// <summary>
    /// The pixels of sample <paramref name="index"/> in an image the caller may modify, rented from
    /// <paramref name="scratch"/> where the dataset can (in-memory datasets: no allocation); by default
    /// <see cref="GetImage(int)"/>. The loader calls this overload.
    /// </summary>
    ByteImage GetImage(int index, ImageScratch scratch) => GetImage(index);
}
