using System.Buffers.Binary;
using System.Text;
using Crate.Results;

namespace Crate.Results.Tests;

/// <summary>
/// The event-file reader on hand-made files: the CRC-32C check value, TFRecord framing, the Event / Summary fields, and
/// where it stops on a torn or damaged record. (That it reads what TorchSharp's SummaryWriter writes is tested in
/// Crate.Tests, TensorBoardLogTests.)
/// </summary>
public class TensorBoardEventsTests
{
    [Fact]
    public void Crc32C_has_the_castagnoli_check_value()
    {
        // The standard check value of CRC-32C over "123456789" (RFC 3720, appendix B.4).
        Assert.Equal(0xE3069283u, TensorBoardEvents.Crc32C(Encoding.ASCII.GetBytes("123456789")));
        Assert.Equal(0u, TensorBoardEvents.Crc32C([]));
        // 32 bytes of zeros, also from RFC 3720 B.4.
        Assert.Equal(0x8A9136AAu, TensorBoardEvents.Crc32C(new byte[32]));
    }

    [Fact]
    public void Reads_the_events_of_a_framed_file_with_their_steps_tags_and_values()
    {
        var path = TempFile();
        File.WriteAllBytes(path, [
            .. Record(Event(wallTime: 1.5, step: 0, version: "brain.Event:2")),
            .. Record(Event(wallTime: 2, step: 7, values: [Scalar("train/top1", 12.5f)])),
            .. Record(Event(wallTime: 3, step: 9, values: [Scalar("a", -1f), Image("img", 3, 4, [1, 2, 3])], unknownField: true)),
        ]);

        var file = TensorBoardEvents.Read(path);

        Assert.Null(file.Problem);
        Assert.Equal(file.Length, file.ValidLength);
        Assert.Equal(3, file.Events.Count);
        Assert.Equal("brain.Event:2", file.Events[0].FileVersion);
        Assert.Equal(1.5, file.Events[0].WallTime);
        var scalar = Assert.Single(file.Events[1].Values);
        Assert.Equal(("train/top1", 12.5f, 7L), (scalar.Tag, scalar.Scalar!.Value, file.Events[1].Step));
        Assert.Equal(9, file.Events[2].Step);
        Assert.Equal(-1f, file.Events[2].Values[0].Scalar);
        var image = file.Events[2].Values[1].Image!;
        Assert.Equal((3, 4, 4), (image.Height, image.Width, image.Colorspace));
        Assert.Equal([1, 2, 3], image.Encoded);
    }

    [Fact]
    public void Stops_before_a_record_cut_short_and_says_how_many_bytes_are_whole()
    {
        var path = TempFile();
        var whole = Record(Event(1, 1, values: [Scalar("x", 1)]));
        var torn = Record(Event(1, 2, values: [Scalar("x", 2)]));
        File.WriteAllBytes(path, [.. whole, .. torn[..(torn.Length - 3)]]);

        var file = TensorBoardEvents.Read(path);

        Assert.Single(file.Events);
        Assert.Equal(whole.Length, file.ValidLength);
        Assert.Contains("cut short", file.Problem);

        File.WriteAllBytes(path, [.. whole, .. torn[..5]]);   // a header cut short
        Assert.Equal(whole.Length, TensorBoardEvents.Read(path).ValidLength);
    }

    [Fact]
    public void A_flipped_byte_fails_the_checksum_of_its_record()
    {
        var path = TempFile();
        var first = Record(Event(1, 1, values: [Scalar("x", 1)]));
        var second = Record(Event(1, 2, values: [Scalar("x", 2)]));
        second[14] ^= 0x40;   // inside the data
        File.WriteAllBytes(path, [.. first, .. second]);
        var file = TensorBoardEvents.Read(path);
        Assert.Single(file.Events);
        Assert.Contains("data checksum", file.Problem);

        second = Record(Event(1, 2, values: [Scalar("x", 2)]));
        second[0] ^= 0x01;    // inside the length
        File.WriteAllBytes(path, [.. first, .. second]);
        Assert.Contains("length checksum", TensorBoardEvents.Read(path).Problem);
    }

    [Fact]
    public void Files_lists_only_event_files_in_name_order()
    {
        var dir = Path.GetDirectoryName(TempFile())!;
        File.WriteAllText(Path.Combine(dir, "events.out.tfevents.200.host.2.1"), "");
        File.WriteAllText(Path.Combine(dir, "events.out.tfevents.100.host.1.1"), "");
        File.WriteAllText(Path.Combine(dir, "metrics.jsonl"), "");
        Assert.Equal(["events.out.tfevents.100.host.1.1", "events.out.tfevents.200.host.2.1"],
            TensorBoardEvents.Files(dir).Select(Path.GetFileName));
        Assert.Empty(TensorBoardEvents.Files(Path.Combine(dir, "missing")));
    }

    private static string TempFile()
    {
        var dir = Path.Combine(Path.GetTempPath(), "crate-results-tests", "tb-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return Path.Combine(dir, "events.out.tfevents.1.test");
    }

    /// <summary>TFRecord framing of <paramref name="data"/>.</summary>
    private static byte[] Record(byte[] data)
    {
        var record = new byte[16 + data.Length];
        BinaryPrimitives.WriteUInt64LittleEndian(record, (ulong)data.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(8), TensorBoardEvents.MaskedCrc32C(record.AsSpan(0, 8)));
        data.CopyTo(record, 12);
        BinaryPrimitives.WriteUInt32LittleEndian(record.AsSpan(12 + data.Length), TensorBoardEvents.MaskedCrc32C(data));
        return record;
    }

    private static byte[] Event(double wallTime, long step, string? version = null, byte[][]? values = null, bool unknownField = false)
    {
        var e = new List<byte>();
        e.Add(1 << 3 | 1); e.AddRange(BitConverter.GetBytes(wallTime));
        e.Add(2 << 3 | 0); e.AddRange(Varint((ulong)step));
        if (version is not null) e.AddRange(Bytes(3, Encoding.UTF8.GetBytes(version)));
        if (unknownField) e.AddRange(Bytes(6, [9, 9, 9]));   // log_message: not read, skipped
        if (values is not null) e.AddRange(Bytes(5, values.SelectMany(v => Bytes(1, v)).ToArray()));
        return [.. e];
    }

    private static byte[] Scalar(string tag, float value) =>
        [.. Bytes(1, Encoding.UTF8.GetBytes(tag)), 2 << 3 | 5, .. BitConverter.GetBytes(value)];

    private static byte[] Image(string tag, int height, int width, byte[] png) =>
        [.. Bytes(1, Encoding.UTF8.GetBytes(tag)),
         .. Bytes(4, [1 << 3, .. Varint((ulong)height), 2 << 3, .. Varint((ulong)width), 3 << 3, 4, .. Bytes(4, png)])];

    private static byte[] Bytes(int field, byte[] value) => [(byte)(field << 3 | 2), .. Varint((ulong)value.Length), .. value];

    private static byte[] Varint(ulong value)
    {
        var bytes = new List<byte>();
        do
        {
            byte b = (byte)(value & 0x7F);
            value >>= 7;
            bytes.Add(value != 0 ? (byte)(b | 0x80) : b);
        } while (value != 0);
        return [.. bytes];
    }
}
