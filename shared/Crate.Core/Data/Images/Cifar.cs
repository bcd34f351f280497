namespace Crate.Core.Data.Images;

/// <summary>Which CIFAR-100 label a record's class is: one of 100 fine classes or 20 coarse superclasses.</summary>
public enum Cifar100Label
{
    /// <summary>The 100 fine classes (second label byte).</summary>
    Fine,
    /// <summary>The 20 coarse superclasses (first label byte).</summary>
    Coarse,
}

/// <summary>
/// Reader for the binary version of CIFAR-10 and CIFAR-100, as the CIFAR page distributes it. A CIFAR-10
/// record is 3,073 bytes: 1 label byte, then 3,072 pixel bytes (1,024 R, 1,024 G, 1,024 B, each a 32x32
/// row-major plane, so already CHW). A CIFAR-100 record is 3,074 bytes: coarse label, fine label, pixels.
/// The datasets carry no licence that allows shipping them: users bring their own copy.
/// </summary>
public static class Cifar
{
    /// <summary>Pixel bytes per record: 3 x 32 x 32.</summary>
    public const int ImageBytes = 3 * 32 * 32;

    /// <summary>CIFAR-10 classes in label order (as in <c>batches.meta.txt</c>).</summary>
    public static readonly IReadOnlyList<string> Cifar10Classes =
        ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"];

    /// <summary>
    /// Loads CIFAR-10 from <paramref name="directory"/> (the <c>cifar-10-batches-bin</c> folder or its parent):
    /// <c>data_batch_1.bin</c>..<c>data_batch_5.bin</c> for training, <c>test_batch.bin</c> for test.
    /// Class names come from <c>batches.meta.txt</c> when present.
    /// </summary>
    public static ImageDataset Load10(string directory, bool train)
    {
        directory = Descend(directory, "cifar-10-batches-bin");
        string[] files = train
            ? Enumerable.Range(1, 5).Select(i => Path.Combine(directory, $"data_batch_{i}.bin")).ToArray()
            : [Path.Combine(directory, "test_batch.bin")];
        var names = ReadNames(Path.Combine(directory, "batches.meta.txt"), Cifar10Classes.Count) ?? Cifar10Classes;
        return ReadRecords(files, labelBytes: 1, labelIndex: 0, names, $"cifar-10/{(train ? "train" : "test")}");
    }

    /// <summary>
    /// Loads CIFAR-100 from <paramref name="directory"/> (the <c>cifar-100-binary</c> folder or its parent):
    /// <c>train.bin</c> or <c>test.bin</c>, with fine or coarse labels. Class names come from
    /// <c>fine_label_names.txt</c> / <c>coarse_label_names.txt</c>, or are "fine_k" / "coarse_k" without them.
    /// </summary>
    public static ImageDataset Load100(string directory, bool train, Cifar100Label label = Cifar100Label.Fine)
    {
        directory = Descend(directory, "cifar-100-binary");
        string file = Path.Combine(directory, train ? "train.bin" : "test.bin");
        bool fine = label == Cifar100Label.Fine;
        int classes = fine ? 100 : 20;
        string kind = fine ? "fine" : "coarse";
        var names = ReadNames(Path.Combine(directory, $"{kind}_label_names.txt"), classes)
                    ?? Enumerable.Range(0, classes).Select(i => $"{kind}_{i}").ToArray();
        return ReadRecords([file], labelBytes: 2, labelIndex: fine ? 1 : 0, names,
            $"cifar-100-{kind}/{(train ? "train" : "test")}");
    }

    /// <summary>
    /// Reads fixed-size records of <paramref name="labelBytes"/> label bytes followed by 3,072 CHW pixel
    /// bytes from each file in order, taking the label at <paramref name="labelIndex"/>.
    /// </summary>
    public static ImageDataset ReadRecords(IReadOnlyList<string> files, int labelBytes, int labelIndex,
        IReadOnlyList<string> classNames, string name)
    {
        int record = labelBytes + ImageBytes;
        long total = 0;
        foreach (string file in files)
        {
            DataFiles.RequireFile(file);
            long length = new FileInfo(file).Length;
            if (length == 0 || length % record != 0)
                throw new DatasetException(file, DataErrorKind.BadRecordSize,
                    $"{length} bytes is not a positive multiple of the {record}-byte record " +
                    $"({labelBytes} label byte{(labelBytes > 1 ? "s" : "")} + {ImageBytes} pixels)");
            total += length / record;
        }
        if (total * ImageBytes > Array.MaxLength)
            throw new DatasetException(files[0], DataErrorKind.Unsupported, $"{total} images do not fit one array");

        var pixels = new byte[total * ImageBytes];   // [N, 3, 32, 32]
        var labels = new int[total];
        var buffer = new byte[record];
        int n = 0;
        foreach (string file in files)
        {
            using var stream = new FileStream(file, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16);
            for (long r = 0; r < stream.Length / record; r++, n++)
            {
                if (DataFiles.ReadUpTo(stream, buffer) < record)
                    throw new DatasetException(file, DataErrorKind.Truncated, $"record {r} ends early (file changed while reading?)");
                int label = buffer[labelIndex];
                if (label >= classNames.Count)
                    throw new DatasetException(file, DataErrorKind.BadLabel,
                        $"record {r} has label {label}, not one of the {classNames.Count} classes");
                labels[n] = label;
                buffer.AsSpan(labelBytes, ImageBytes).CopyTo(pixels.AsSpan(n * ImageBytes, ImageBytes));
            }
        }
        return new ImageDataset(name, pixels, labels, 3, 32, 32, classNames);
    }

    private static string Descend(string directory, string inner)
    {
        DataFiles.RequireDirectory(directory);
        string nested = Path.Combine(directory, inner);
        return Directory.Exists(nested) ? nested : directory;
    }

    private static string[]? ReadNames(string path, int expected)
    {
        if (!File.Exists(path)) return null;
        string[] names = File.ReadAllLines(path).Select(l => l.Trim()).Where(l => l.Length > 0).ToArray();
        if (names.Length != expected)
            throw new DatasetException(path, DataErrorKind.CountMismatch, $"{names.Length} class names, expected {expected}");
        return names;
    }
}
