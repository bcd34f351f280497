using System.Text.Json;
using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Tests.Data;

public class TokenFileTests
{
    [Fact]
    public void Reads_headerless_little_endian_uint16()
    {
        using var dir = new TempDir();
        string path = dir.File("train.bin");
        File.WriteAllBytes(path, TokenBytes.Of([0, 1, 258, 50256, 65535 % 50257]));

        using var file = TokenFile.Open(path, 50257);

        Assert.Equal(5, file.Length);
        Assert.Equal(new ushort[] { 0, 1, 258, 50256, 15278 }, file.ReadAll());
    }

    [Fact]
    public void Writer_output_reads_back()
    {
        using var dir = new TempDir();
        string path = dir.File("x.bin");
        TokenFile.Write(path, [5, 4, 3, 50000], 50257);

        Assert.Equal(TokenBytes.Of([5, 4, 3, 50000]), File.ReadAllBytes(path));
        var e = Assert.Throws<DatasetException>(() => TokenFile.Write(path, [1, 60000], 50257));
        Assert.Equal(DataErrorKind.IdOutOfRange, e.Kind);
    }

    [Fact]
    public void Odd_byte_count_is_reported()
    {
        using var dir = new TempDir();
        string path = dir.File("val.bin");
        File.WriteAllBytes(path, [1, 0, 2]);

        var e = Assert.Throws<DatasetException>(() => TokenFile.Open(path, 100));

        Assert.Equal(DataErrorKind.OddByteCount, e.Kind);
        Assert.Equal(path, e.FilePath);
    }

    [Fact]
    public void Empty_file_is_reported()
    {
        using var dir = new TempDir();
        string path = dir.File("val.bin");
        File.WriteAllBytes(path, []);

        Assert.Equal(DataErrorKind.Empty, Assert.Throws<DatasetException>(() => TokenFile.Open(path, 100)).Kind);
    }

    [Fact]
    public void Id_beyond_the_vocabulary_is_found_on_open()
    {
        using var dir = new TempDir();
        string path = dir.File("train.bin");
        File.WriteAllBytes(path, TokenBytes.Of([1, 2, 3, 4, 5, 6, 7, 150, 9]));

        var e = Assert.Throws<DatasetException>(() => TokenFile.Open(path, 100));

        Assert.Equal(DataErrorKind.IdOutOfRange, e.Kind);
        Assert.Contains("token 7 has id 150", e.Message);
    }

    [Fact]
    public void Large_files_are_sampled_on_open_and_checked_per_batch()
    {
        using var dir = new TempDir();
        string path = dir.File("big.bin");
        int[] ids = Enumerable.Range(0, 300_000).Select(i => i % 90).ToArray();
        ids[150_000] = 99;   // outside the first and last 64K ids; the sample is switched off
        File.WriteAllBytes(path, TokenBytes.Of(ids));

        using var file = TokenFile.Open(path, 95, fullCheckLimit: 1000, sampleSize: 0);
        var e = Assert.Throws<DatasetException>(() => TokenBatches.Sequential(file, batchSize: 64, blockSize: 1000).ToList());

        Assert.Equal(DataErrorKind.IdOutOfRange, e.Kind);
        Assert.Contains("token 150000 has id 99", e.Message);
        Assert.Throws<DatasetException>(() => TokenFile.Open(path, 95));   // the default: every id checked
    }

    [Fact]
    public void Random_batches_are_shifted_windows_from_a_resumable_generator()
    {
        using var dir = new TempDir();
        string path = dir.File("train.bin");
        File.WriteAllBytes(path, TokenBytes.Of(Enumerable.Range(0, 500)));
        using var file = TokenFile.Open(path, 1000);

        var sampler = new TokenBatchSampler(file, batchSize: 6, blockSize: 16, seed: 1337);
        TokenBatch batch = sampler.Next();

        Assert.Equal((6, 16, 96), (batch.BatchSize, batch.BlockSize, batch.X.Length));
        for (int b = 0; b < 6; b++)
        {
            long offset = batch.X[b * 16];
            Assert.InRange(offset, 0, 500 - 16 - 1);
            for (int t = 0; t < 16; t++)
            {
                Assert.Equal(offset + t, batch.X[b * 16 + t]);       // ids[i : i+T]
                Assert.Equal(offset + t + 1, batch.Y[b * 16 + t]);   // ids[i+1 : i+T+1]
            }
        }

        sampler.Next();
        string saved = JsonSerializer.Serialize(sampler.State);
        long[] expected = sampler.Next().X.Concat(sampler.Next().X).ToArray();
        var resumed = new TokenBatchSampler(file, 6, 16, seed: 1) { State = JsonSerializer.Deserialize<ulong>(saved) };
        Assert.Equal(expected, resumed.Next().X.Concat(resumed.Next().X));

        var other = new TokenBatchSampler(file, 6, 16, seed: 1338);
        Assert.NotEqual(batch.X, other.Next().X);
    }

    [Fact]
    public void Context_longer_than_the_file_is_reported()
    {
        using var dir = new TempDir();
        string path = dir.File("val.bin");
        File.WriteAllBytes(path, TokenBytes.Of(Enumerable.Range(0, 64)));
        using var file = TokenFile.Open(path, 100);

        var e = Assert.Throws<DatasetException>(() => new TokenBatchSampler(file, 2, 64, 0));
        Assert.Equal(DataErrorKind.ContextTooLong, e.Kind);
        Assert.Equal(path, e.FilePath);
        Assert.Throws<DatasetException>(() => TokenBatches.Sequential(file, 2, 64).ToList());

        var tight = new TokenBatchSampler(file, 2, 63, 0);   // 64 tokens: only offset 0
        Assert.Equal(Enumerable.Range(1, 63).Select(i => (long)i), tight.Next().Y.Take(63));
    }

    [Fact]
    public void Sequential_batches_cover_the_file_in_order()
    {
        using var dir = new TempDir();
        string path = dir.File("val.bin");
        File.WriteAllBytes(path, TokenBytes.Of(Enumerable.Range(0, 1000)));
        using var file = TokenFile.Open(path, 1000);

        var batches = TokenBatches.Sequential(file, batchSize: 4, blockSize: 64).ToList();

        Assert.Equal([4, 4, 4, 3], batches.Select(b => b.BatchSize));   // 15 windows: (1000 - 1) / 64
        Assert.Equal(4, TokenBatches.SequentialBatchCount(file, 4, 64));
        long[] x = batches.SelectMany(b => b.X).ToArray();
        long[] y = batches.SelectMany(b => b.Y).ToArray();
        Assert.Equal(Enumerable.Range(0, 960).Select(i => (long)i), x);
        Assert.Equal(Enumerable.Range(1, 960).Select(i => (long)i), y);
        Assert.Equal(2, TokenBatches.Sequential(file, 4, 64, maxBatches: 2).Count());
    }

    [Fact]
    public void Unigram_entropy_in_nats()
    {
        using var dir = new TempDir();
        string path = dir.File("t.bin");
        File.WriteAllBytes(path, TokenBytes.Of([0, 0, 1, 1, 2, 2, 3, 3]));
        using var file = TokenFile.Open(path, 10);

        Assert.Equal(Math.Log(4), TokenStatistics.UnigramEntropy(file), 12);
        Assert.Equal(0.0, TokenStatistics.UnigramEntropy(new ushort[] { 7, 7, 7 }), 12);
        double p = 0.75, expected = -(p * Math.Log(p) + (1 - p) * Math.Log(1 - p));
        Assert.Equal(expected, TokenStatistics.UnigramEntropy(new ushort[] { 1, 1, 1, 2 }), 12);
    }

    [Fact]
    public void Batches_become_int64_tensors()
    {
        var batch = new TokenBatch([1, 2, 3, 4, 5, 6], [2, 3, 4, 5, 6, 7], 2, 3);
        using (TorchSharp.torch.NewDisposeScope())
        {
            var (x, y) = batch.ToTensors();
            Assert.Equal([2L, 3], x.shape);
            Assert.Equal(TorchSharp.torch.ScalarType.Int64, y.dtype);
            Assert.Equal(6L, y[1, 1].item<long>());
        }
    }
}
