namespace Crate.Core.Data.Images;

/// <summary>How much an <see cref="ImageFolderDataset"/> checks its files when it is opened.</summary>
public enum ImageFolderCheck
{
    /// <summary>Only the folder structure (every class folder has at least one image file).</summary>
    None,
    /// <summary>Also each file's header: a supported format by its first bytes and a sane size (reads ~64 KB per file).</summary>
    Header,
    /// <summary>Also decodes every image once (slow for ImageNet; finds every bad file before training).</summary>
    Full,
}

/// <summary>
/// The torchvision ImageFolder layout, read lazily: <c>root/&lt;class&gt;/**/&lt;file&gt;</c>. Classes are
/// the immediate subfolders sorted ordinally (label = position); files are walked as torchvision does
/// (folders in sorted path order, files sorted within each folder). A file takes part when its extension is
/// .jpg, .jpeg, .png, .bmp or .gif (any case); what it really is comes from its first bytes. Images are
/// decoded on the loader's thread by <see cref="GetImage"/>, so ImageNet-size folders need no memory
/// beyond the file list.
/// </summary>
public sealed class ImageFolderDataset : IImageDataset
{
    /// <summary>File extensions taken as images (compared case-insensitively).</summary>
    public static readonly IReadOnlyList<string> Extensions = [".jpg", ".jpeg", ".png", ".bmp", ".gif"];

    private const int HeaderBytes = 64 * 1024;

    private readonly string[] _files;
    private readonly int[] _labels;

    private ImageFolderDataset(string root, string[] classes, string[] files, int[] labels, int channels)
    {
        Root = root;
        ClassNames = classes;
        _files = files;
        _labels = labels;
        Channels = channels;
    }

    /// <summary>
    /// Lists <paramref name="root"/> and checks it as <paramref name="check"/> says; images will come out
    /// with <paramref name="channels"/> channels (1 or 3) whatever their stored colour type.
    /// </summary>
    public static ImageFolderDataset Open(string root, int channels = 3, ImageFolderCheck check = ImageFolderCheck.Header)
    {
        if (channels is not (1 or 3)) throw new ArgumentOutOfRangeException(nameof(channels), channels, "1 or 3 channels");
        DataFiles.RequireDirectory(root);
        string[] classes = Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>()
            .Order(StringComparer.Ordinal).ToArray();
        if (classes.Length == 0)
            throw new DatasetException(root, DataErrorKind.Missing, "no class folders (expected root/<class>/<image files>)");

        var files = new List<string>();
        var labels = new List<int>();
        for (int label = 0; label < classes.Length; label++)
        {
            string classDir = Path.Combine(root, classes[label]);
            int before = files.Count;
            files.AddRange(WalkSorted(classDir));
            if (files.Count == before)
                throw new DatasetException(classDir, DataErrorKind.EmptyClass,
                    $"class folder has no image files ({string.Join(", ", Extensions)})");
            labels.AddRange(Enumerable.Repeat(label, files.Count - before));
        }

        var dataset = new ImageFolderDataset(root, classes, files.ToArray(), labels.ToArray(), channels);
        if (check == ImageFolderCheck.Header) dataset.CheckHeaders();
        if (check == ImageFolderCheck.Full) dataset.CheckDecode();
        return dataset;
    }

    /// <summary>The folder this dataset was read from.</summary>
    public string Root { get; }

    /// <inheritdoc/>
    public string Name
    {
        get
        {
            string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Root));
            string? parent = Path.GetFileName(Path.GetDirectoryName(full));
            return string.IsNullOrEmpty(parent) ? Path.GetFileName(full) : $"{parent}/{Path.GetFileName(full)}";
        }
    }

    /// <inheritdoc/>
    public int Count => _files.Length;

    /// <inheritdoc/>
    public int Channels { get; }

    /// <inheritdoc/>
    public IReadOnlyList<string> ClassNames { get; }

    /// <summary>The image files in sample order.</summary>
    public IReadOnlyList<string> Files => _files;

    /// <inheritdoc/>
    public int GetLabel(int index) => _labels[index];

    /// <summary>Decodes sample <paramref name="index"/>; a bad file throws a <see cref="DatasetException"/> naming it.</summary>
    public ByteImage GetImage(int index) => ImageDecoder.Decode(_files[index], Channels);

    /// <summary>Number of samples of each class, indexed by label.</summary>
    public int[] ClassCounts()
    {
        var counts = new int[ClassNames.Count];
        foreach (int label in _labels) counts[label]++;
        return counts;
    }

    private void CheckHeaders()
    {
        var buffer = new byte[HeaderBytes];
        foreach (string file in _files)
        {
            int n;
            using (var stream = File.OpenRead(file)) n = DataFiles.ReadUpTo(stream, buffer);
            bool whole = n < HeaderBytes;
            if (ImageFileCheck.ReadHeader(buffer.AsSpan(0, n), whole, file) is null)
                ImageFileCheck.ReadHeader(File.ReadAllBytes(file), isWholeFile: true, file);   // header beyond 64 KB (large EXIF)
        }
    }

    private void CheckDecode()
    {
        try { Parallel.ForEach(_files, file => ImageDecoder.Decode(file, Channels)); }
        catch (AggregateException e) when (e.InnerExceptions.All(x => x is DatasetException))
        {
            // Report the first bad file in sample order, whatever thread met it first.
            throw e.InnerExceptions.Cast<DatasetException>().MinBy(x => Array.IndexOf(_files, x.FilePath))!;
        }
    }

    // torchvision: for root, _, files in sorted(os.walk(dir)): for f in sorted(files). Folders ordered by
    // their full path, files by name, both ordinal.
    private static IEnumerable<string> WalkSorted(string classDir)
    {
        var folders = new List<string> { classDir };
        folders.AddRange(Directory.EnumerateDirectories(classDir, "*", SearchOption.AllDirectories));
        folders.Sort(StringComparer.Ordinal);
        foreach (string folder in folders)
            foreach (string file in Directory.EnumerateFiles(folder).Order(StringComparer.Ordinal))
                if (Extensions.Contains(Path.GetExtension(file), StringComparer.OrdinalIgnoreCase))
                    yield return file;
    }
}
