namespace Crate.Core.Data.Images;

/// <summary>
/// A view of <see cref="Source"/> restricted to some indices. <see cref="EvenlySpaced"/> picks ⌊k·Count/limit⌋
/// for k = 0..limit−1, so a class-sorted folder still yields every class.
/// </summary>
public sealed class ImageSubset(IImageDataset source, int[] indices) : IImageDataset
{
    /// <summary>Every <c>Count/limit</c>-th sample of <paramref name="source"/>.</summary>
    public static ImageSubset EvenlySpaced(IImageDataset source, int limit) =>
        new(source, Enumerable.Range(0, limit).Select(k => (int)((long)k * source.Count / limit)).ToArray());

    /// <summary><paramref name="source"/> itself when <paramref name="limit"/> is 0 or covers it, else <see cref="EvenlySpaced"/>.</summary>
    public static IImageDataset Limit(IImageDataset source, int limit) =>
        limit <= 0 || limit >= source.Count ? source : EvenlySpaced(source, limit);

    /// <summary>The dataset viewed.</summary>
    public IImageDataset Source => source;

    /// <inheritdoc/>
    public string Name => $"{source.Name}[{indices.Length}]";

    /// <inheritdoc/>
    public int Count => indices.Length;

    /// <inheritdoc/>
    public int Channels => source.Channels;

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames => source.ClassNames;

    /// <inheritdoc/>
    public int GetLabel(int index) => source.GetLabel(indices[index]);

    /// <inheritdoc/>
    public ByteImage GetImage(int index) => source.GetImage(indices[index]);

    /// <inheritdoc/>
    public ByteImage GetImage(int index, ImageScratch scratch) => source.GetImage(indices[index], scratch);
}
