using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Data.Images;
using Crate.Core.Data.Text;
using Crate.Core.Interop;
using static TorchSharp.torch;
using Xunit.Abstractions;

namespace Crate.Tests.Data;

/// <summary>
/// Every reader over mutated copies of real files (truncations, bit flips, huge declared sizes, garbage, cut and
/// duplicated ranges): each case must return data or throw the project's bad-input error
/// (<see cref="BadInputException"/> and subclasses): never hang, crash, run out of memory or throw anything else.
/// The mutations are seeded, so a failure names a case that reproduces.
/// </summary>
public class HostileFileFuzzTests(ITestOutputHelper output)
{
    private const int CasesPerSeed = 300;

    /// <summary>A reader under test: the file name its seed is written under, the seed's bytes and the call.</summary>
    private sealed record Reader(string Name, string FileName, byte[] Seed, Action<string> Read);

    [Fact]
    public async Task EveryReaderReturnsDataOrABadInputErrorOnThousandsOfMutatedFiles()
    {
        using var dir = new TempDir();
        var readers = Readers(dir);
        foreach (var r in readers)   // the unmutated seeds must read: the mutations start from good files
        {
            var path = Path.Combine(dir.Path, r.FileName);
            File.WriteAllBytes(path, r.Seed);
            r.Read(path);
        }

        string current = "";
        var failures = new List<string>();
        var refused = new int[readers.Count];
        int cases = 0;
        var clock = Stopwatch.StartNew();
        var work = Task.Run(() =>
        {
            for (int r = 0; r < readers.Count; r++)
                for (int i = 0; i < CasesPerSeed; i++)
                {
                    var reader = readers[r];
                    var (bytes, mutation) = Mutate(reader.Seed, seedValue: r * 100_003 + i, i);
                    var folder = Path.Combine(dir.Path, $"{reader.Name}-{i}");
                    Directory.CreateDirectory(folder);
                    var path = Path.Combine(folder, reader.FileName);
                    File.WriteAllBytes(path, bytes);
                    Volatile.Write(ref current, $"{reader.Name} case {i}: {mutation}");
                    try { reader.Read(path); }
                    catch (BadInputException) { refused[r]++; }
                    catch (Exception e)
                    {
                        lock (failures) failures.Add($"{reader.Name} case {i} ({mutation}): {e.GetType().Name}: {e.Message}");
                    }
                    finally { Directory.Delete(folder, recursive: true); }
                    Interlocked.Increment(ref cases);
                }
        });
        var finished = await Task.WhenAny(work, Task.Delay(TimeSpan.FromMinutes(2)));
        Assert.True(finished == work, $"a reader hangs (or the machine is very slow) at {Volatile.Read(ref current)}");
        await work;
        Assert.True(failures.Count == 0, $"{failures.Count} of {cases} cases threw another exception type:\n" + string.Join("\n", failures.Take(20)));
        Assert.Equal(readers.Count * CasesPerSeed, cases);
        for (int r = 0; r < readers.Count; r++)
        {
            output.WriteLine($"{readers[r].Name,-14} {CasesPerSeed - refused[r],4} read, {refused[r],4} refused");
            Assert.True(refused[r] > 0, $"{readers[r].Name}: no mutation was refused, so the reader checks nothing");
        }
        Assert.True(clock.Elapsed < TimeSpan.FromMinutes(2), $"{cases} cases took {clock.Elapsed}");
    }

    [Fact]
    public void APthWhosePickleCallsOsSystemIsRefusedByNameAndNothingRuns()
    {
        // A real torch.save archive (tools/fixtures/make_hostile_pth.py): a tensor and a value that reduces to os.system.
        const string marker = "/tmp/crate-hostile-pth-ran";
        File.Delete(marker);
        var path = Path.Combine(DataTestFiles.RepoRoot(), "tests", "Crate.Tests", "Fixtures", "hostile_os_system.pth");

        var e = Assert.Throws<CheckpointFormatException>(() => StateDictFile.Read(path));
        Assert.Contains("'posix.system'", e.Message);                          // os.system pickles as posix.system
        Assert.Contains("refused without loading it", e.Message);
        Assert.Throws<CheckpointFormatException>(() => StateDictFile.ReadShapes(path));
        Assert.False(File.Exists(marker));
    }

    [Theory]
    [InlineData("os", "system", false)]
    [InlineData("builtins", "eval", false)]
    [InlineData("subprocess", "Popen", true)]
    public void AnyOtherGlobalIsRefusedByNameAlsoThroughStackGlobal(string module, string name, bool stackGlobal)
    {
        using var dir = new TempDir();
        var path = dir.File("evil.pth");
        // protocol 2: GLOBAL 'module name'; protocol 4: SHORT_BINUNICODE module, SHORT_BINUNICODE name, STACK_GLOBAL.
        var global = stackGlobal
            ? [0x8c, (byte)module.Length, .. System.Text.Encoding.ASCII.GetBytes(module), 0x94, 0x8c, (byte)name.Length, .. System.Text.Encoding.ASCII.GetBytes(name), 0x94, 0x93]
            : System.Text.Encoding.ASCII.GetBytes($"c{module}\n{name}\n");
        byte[] pickle = [0x80, 0x02, .. global, 0x8c, 0x04, .. "true"u8, 0x85, (byte)'R', (byte)'.'];
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        using (var s = zip.CreateEntry("evil/data.pkl").Open())
            s.Write(pickle);

        var e = Assert.Throws<CheckpointFormatException>(() => StateDictFile.Read(path));
        Assert.Contains($"'{module}.{name}'", e.Message);
    }

    private static List<Reader> Readers(TempDir dir)
    {
        string repo = DataTestFiles.RepoRoot();
        byte[] Gunzip(string path)
        {
            using var gz = new GZipStream(File.OpenRead(path), CompressionMode.Decompress);
            using var m = new MemoryStream();
            gz.CopyTo(m);
            return m.ToArray();
        }
        byte[] Gzip(byte[] raw)
        {
            using var m = new MemoryStream();
            using (var gz = new GZipStream(m, CompressionLevel.Optimal)) gz.Write(raw);
            return m.ToArray();
        }

        // IDX: the first 16 test images of the shipped Fashion-MNIST subset, raw and gzipped, and its gzipped labels.
        var images = Gunzip(Path.Combine(repo, "data", "fashion-mnist", "t10k-images-idx3-ubyte.gz"));
        var idx = new byte[16 + 16 * 784];
        images.AsSpan(0, idx.Length).CopyTo(idx);
        BinaryPrimitives.WriteInt32BigEndian(idx.AsSpan(4), 16);
        // CIFAR-10: four records (label byte + 3,072 CHW pixels) built from those images.
        var cifar = new byte[4 * 3073];
        for (int r = 0; r < 4; r++)
        {
            cifar[r * 3073] = (byte)(r * 3);
            for (int p = 0; p < 3072; p++) cifar[r * 3073 + 1 + p] = idx[16 + r * 784 + p % 784];
        }
        // Text: a State of the Union address, raw and gzipped; the BERT vocabulary's first 2,000 lines (specials included).
        var speech = Gunzip(Path.Combine(repo, "data", "sotu", "1790_george_washington_n.txt.gz"));
        var vocabLines = System.Text.Encoding.UTF8.GetString(Gunzip(Path.Combine(repo, "data", "bert-vocab", "vocab.txt.gz"))).Split('\n').Take(2000);
        var vocab = System.Text.Encoding.UTF8.GetBytes(string.Join('\n', vocabLines) + "\n");
        // Token ids of that speech under the vocabulary, as a nanoGPT uint16 file.
        var tokenPath = dir.File("seed-tokens.bin");
        var tokenizerPath = dir.File("seed-vocab.txt");
        File.WriteAllBytes(tokenizerPath, vocab);
        TokenFile.Write(tokenPath, BertWordPieceTokenizer.Load(tokenizerPath).Encode(System.Text.Encoding.UTF8.GetString(speech)), 2000);
        string Fixture(string name) => Path.Combine(repo, "tests", "Crate.Tests", "Fixtures", name);

        return
        [
            new("idx", "train-images-idx3-ubyte", idx, p => IdxFile.Read(p)),
            new("idx-gz", "train-images-idx3-ubyte.gz", Gzip(idx), p => IdxFile.Read(p)),
            new("idx-labels-gz", "t10k-labels-idx1-ubyte.gz", File.ReadAllBytes(Path.Combine(repo, "data", "fashion-mnist", "t10k-labels-idx1-ubyte.gz")), p => IdxFile.Read(p)),
            new("cifar", "test_batch.bin", cifar, p => Cifar.ReadRecords([p], 1, 0, Cifar.Cifar10Classes, "cifar10")),
            new("png", "image.png", File.ReadAllBytes(DataTestFiles.Fixture("palette.png")), p => ImageDecoder.Decode(p, 3)),
            new("jpeg", "image.jpg", File.ReadAllBytes(DataTestFiles.Fixture("progressive.jpg")), p => ImageDecoder.Decode(p, 1)),
            new("bmp", "image.bmp", File.ReadAllBytes(DataTestFiles.Fixture("rgb.bmp")), p => ImageDecoder.Decode(p, 3)),
            new("text", "speech.txt", speech, p => TextSource.ReadText(p)),
            new("text-gz", "speech.txt.gz", Gzip(speech), p => TextSource.ReadText(p)),
            new("tokens", "train.bin", File.ReadAllBytes(tokenPath), p => { using var f = TokenFile.Open(p, 2000); f.ReadAll(); }),
            new("vocab", "vocab.txt", vocab, p => BertWordPieceTokenizer.Load(p).Encode("The quick brown fox")),
            new("pth", "model.pth", File.ReadAllBytes(Fixture("crate_fixture.pth")), ReadStateDict),
            new("safetensors", "model.safetensors", File.ReadAllBytes(Fixture("crate_fixture_io.safetensors")), ReadStateDict),
        ];
    }

    private static void ReadStateDict(string path)
    {
        using var scope = NewDisposeScope();
        StateDictFile.ReadShapes(path);
        StateDictFile.Read(path);
    }

    /// <summary>One seeded mutation of <paramref name="seed"/> and its description.</summary>
    private static (byte[] Bytes, string Mutation) Mutate(byte[] seed, int seedValue, int i)
    {
        var rng = new Random(seedValue);
        var b = (byte[])seed.Clone();
        int at = rng.Next(b.Length);
        switch (i % 8)
        {
            case 0:
                return (b[..at], $"truncated to {at} bytes");
            case 1:
            {
                int flips = 1 + rng.Next(4);
                var where = new List<string>();
                for (int f = 0; f < flips; f++)
                {
                    int p = rng.Next(b.Length), bit = rng.Next(8);
                    b[p] ^= (byte)(1 << bit);
                    where.Add($"{p}.{bit}");
                }
                return (b, "bit flips at " + string.Join(", ", where));
            }
            case 2:
            {
                // A huge size where a header field may be: big-endian, little-endian or 64-bit.
                byte[][] huge = [[0x7F, 0xFF, 0xFF, 0xFF], [0xFF, 0xFF, 0xFF, 0x7F], [0xFF, 0xFF, 0xFF, 0xFF], [0x00, 0x00, 0x00, 0x80], [0x40, 0x00, 0x00, 0x00]];
                var value = huge[rng.Next(huge.Length)];
                int p = rng.Next(2) == 0 ? rng.Next(Math.Min(b.Length, 64)) : at;   // in the header or anywhere
                p = Math.Min(p, Math.Max(0, b.Length - 4));
                value.AsSpan(0, Math.Min(4, b.Length - p)).CopyTo(b.AsSpan(p));
                return (b, $"huge value {Convert.ToHexString(value)} at {p}");
            }
            case 3:
            {
                int p = rng.Next(Math.Min(b.Length, 64));
                b[p] = (byte)rng.Next(256);
                return (b, $"header byte {p} = {b[p]}");
            }
            case 4:
            {
                var garbage = new byte[1 + rng.Next(512)];
                rng.NextBytes(garbage);
                return ([.. b, .. garbage], $"{garbage.Length} garbage bytes appended");
            }
            case 5:
            {
                int len = Math.Min(1 + rng.Next(256), b.Length - at);
                return ([.. b[..(at + len)], .. b[at..(at + len)], .. b[(at + len)..]], $"{len} bytes at {at} duplicated");
            }
            case 6:
            {
                int len = Math.Min(1 + rng.Next(256), b.Length - at);
                Array.Clear(b, at, len);
                return (b, $"{len} bytes at {at} zeroed");
            }
            default:
            {
                int len = Math.Min(1 + rng.Next(256), b.Length - at);
                return ([.. b[..at], .. b[(at + len)..]], $"{len} bytes at {at} cut out");
            }
        }
    }
}
