namespace Crate.Core.Data.Images;

/// <summary>
/// Reusable working memory of one loader thread, so that preparing a sample allocates nothing once the
/// buffers exist: images handed out by shape (<see cref="Rent"/>) and grow-only float and int arrays
/// (<see cref="Floats"/>, <see cref="Ints"/>). A sample's work runs between two <see cref="Reset"/> calls;
/// within it <see cref="Rent"/> never hands out the same image twice. Not thread-safe: one per thread.
/// </summary>
public sealed class ImageScratch
{
    /// <summary>Distinct image shapes kept; beyond that (images of varying sizes) <see cref="Reset"/> forgets them all.</summary>
    public const int MaxShapes = 64;

    private readonly Dictionary<(int C, int H, int W), Slot> _images = [];
    private readonly List<Slot> _slots = [];
    private float[][] _floats = [];
    private int[][] _ints = [];

    /// <summary>
    /// An image of the given shape whose pixels are left from earlier use: overwrite every pixel (or clear
    /// it). Valid until the next <see cref="Reset"/>.
    /// </summary>
    public ByteImage Rent(int channels, int height, int width)
    {
        if (!_images.TryGetValue((channels, height, width), out Slot? slot))
        {
            slot = new Slot();
            _images.Add((channels, height, width), slot);
            _slots.Add(slot);
        }
        if (slot.Used == slot.Images.Count) slot.Images.Add(new ByteImage(channels, height, width));
        return slot.Images[slot.Used++];
    }

    /// <summary>A rented copy of <paramref name="image"/>.</summary>
    public ByteImage CopyOf(ByteImage image)
    {
        ByteImage copy = Rent(image.Channels, image.Height, image.Width);
        image.Data.CopyTo(copy.Data, 0);
        return copy;
    }

    /// <summary>Float array number <paramref name="slot"/>, at least <paramref name="length"/> long, contents undefined.</summary>
    public float[] Floats(int slot, int length) => Grow(ref _floats, slot, length);

    /// <summary>Int array number <paramref name="slot"/>, at least <paramref name="length"/> long, contents undefined.</summary>
    public int[] Ints(int slot, int length) => Grow(ref _ints, slot, length);

    /// <summary>Hands every rented image back (the start of the next sample).</summary>
    public void Reset()
    {
        if (_slots.Count > MaxShapes)
        {
            _images.Clear();
            _slots.Clear();
            return;
        }
        for (int i = 0; i < _slots.Count; i++) _slots[i].Used = 0;
    }

    private static T[] Grow<T>(ref T[][] arrays, int slot, int length)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(slot);
        if (slot >= arrays.Length) Array.Resize(ref arrays, slot + 1);
        T[]? array = arrays[slot];
        if (array is null || array.Length < length) arrays[slot] = array = new T[length];
        return array;
    }

    private sealed class Slot
    {
        public List<ByteImage> Images { get; } = [];
        public int Used { get; set; }
    }
}
