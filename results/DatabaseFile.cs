using System.Security.Cryptography;
using System.Text;
using Crate.Core.Runtime;
using LiteDB;

namespace Crate.Results;

/// <summary>
/// Checks a results database before LiteDB opens it for real. LiteDB 5.0.21 writes a "rebuild me"
/// mark into the header of a file it fails to open (and may truncate it), even when opened read-only,
/// so a bad file must never reach it: <see cref="Check"/> reads the header itself, then opens a
/// private copy (taken under the store lock, so no writer is half-way) and reads every document.
/// </summary>
internal static class DatabaseFile
{
    // LiteDB 5 header page (HeaderPage.cs): page type at byte 4, "** This is a LiteDB file **" at
    // bytes 32-58, file version 8 at byte 59, "invalid datafile state" flag at byte 191.
    private const int PageSize = 8192;
    private const int PageTypeOffset = 4;
    private const byte HeaderPageType = 1;
    private const int InfoOffset = 32;
    private static readonly byte[] Info = Encoding.ASCII.GetBytes("** This is a LiteDB file **");
    private const int VersionOffset = 59;
    private const byte FileVersion = 8;
    private const int InvalidStateOffset = 191;

    /// <summary>The WAL file LiteDB keeps beside <paramref name="path"/>: <c>results-log.db</c> for <c>results.db</c>.</summary>
    public static string LogFileOf(string path) =>
        Path.Combine(Path.GetDirectoryName(path) ?? "",
            Path.GetFileNameWithoutExtension(path) + "-log" + Path.GetExtension(path));

    /// <summary>
    /// Throws <see cref="ResultsStoreException"/> when <paramref name="path"/> exists and is not an intact
    /// LiteDB 5 database; a missing or empty file passes (LiteDB creates it). Never writes to the file.
    /// </summary>
    public static void Check(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists || info.Length == 0)
            return;
        var header = ReadHeader(path, info.Length);
        if (header is not null)
            throw Corrupt(path, header);
        var failure = ProbeCopy(path, clearDamageMark: false);
        if (failure is not null)
            throw Corrupt(path, failure);
    }

    /// <summary>
    /// LiteDB marks a file "damaged" (the header's invalid-state byte) when a write fails, for instance on a full
    /// disk, although its committed transactions are intact (writes go through the WAL file first). When that mark
    /// is the header's only fault and a copy with the mark cleared opens and reads every document and index, the
    /// mark is cleared in <paramref name="path"/> (one byte, under the store lock) and true is returned; otherwise
    /// the file is left as it was (and <see cref="Check"/> refuses it).
    /// </summary>
    public static bool ClearDamageMarkIfIntact(string path)
    {
        var info = new FileInfo(path);
        if (!info.Exists || info.Length < PageSize || info.Length % PageSize != 0)
            return false;
        var page = new byte[PageSize];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            stream.ReadExactly(page);
        if (page[InvalidStateOffset] == 0)
            return false;
        page[InvalidStateOffset] = 0;
        if (ReadHeaderPage(page) is not null || ProbeCopy(path, clearDamageMark: true) is not null)
            return false;
        using var storeLock = StoreLock.For(path);
        using (storeLock.Acquire())
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete))
        {
            stream.Position = InvalidStateOffset;
            stream.WriteByte(0);
            stream.Flush(flushToDisk: true);
        }
        return true;
    }

    /// <summary>The error for a file that must not be opened; its wording is part of the CLI's contract.</summary>
    public static ResultsStoreException Corrupt(string path, string cause, Exception? inner = null)
    {
        var message = $"results database {path} is corrupt or not a LiteDB file: {cause}. " +
                      "It was not modified; move it aside to start a new one.";
        return inner is null ? new ResultsStoreException(message) : new ResultsStoreException(message, inner);
    }

    private static string? ReadHeader(string path, long length)
    {
        if (length < PageSize)
            return $"it is {length} bytes long, shorter than one {PageSize}-byte LiteDB page";
        if (length % PageSize != 0)
            return $"its length {length} is not a multiple of the {PageSize}-byte LiteDB page";
        var page = new byte[PageSize];
        using (var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete))
            stream.ReadExactly(page);
        return ReadHeaderPage(page);
    }

    private static string? ReadHeaderPage(byte[] page)
    {
        if (!page.AsSpan(InfoOffset, Info.Length).SequenceEqual(Info))
            return "its first page has no LiteDB header";
        if (page[PageTypeOffset] != HeaderPageType)
            return $"its first page has page type {page[PageTypeOffset]}, not the header type {HeaderPageType}";
        if (page[VersionOffset] != FileVersion)
            return $"it is LiteDB file version {page[VersionOffset]}; this build reads version {FileVersion} (LiteDB 5)";
        if (page[InvalidStateOffset] != 0)
            return "LiteDB marked it as damaged after an earlier failure";
        return null;
    }

    /// <summary>
    /// Opens a copy of the database (and its WAL file), with LiteDB's damage mark cleared in the copy when
    /// <paramref name="clearDamageMark"/>, and reads every document and index; returns the failure or null.
    /// </summary>
    private static string? ProbeCopy(string path, bool clearDamageMark)
    {
        var folder = Path.Combine(Path.GetTempPath(), "crate-results-probe-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(folder);
        try
        {
            var copy = Path.Combine(folder, "probe.db");
            using var storeLock = StoreLock.For(path);
            using (storeLock.Acquire())
            {
                File.Copy(path, copy);
                if (File.Exists(LogFileOf(path)))
                    File.Copy(LogFileOf(path), LogFileOf(copy));
            }
            if (clearDamageMark)
                using (var stream = new FileStream(copy, FileMode.Open, FileAccess.ReadWrite))
                {
                    stream.Position = InvalidStateOffset;
                    stream.WriteByte(0);
                }
            using var db = new LiteDatabase(new ConnectionString { Filename = copy, Connection = ConnectionType.Direct });
            foreach (var name in db.GetCollectionNames().ToList())
                foreach (var _ in db.GetCollection(name).FindAll()) { }
            // Every index too: the store's queries go through them, and a damaged index page reads fine in FindAll.
            foreach (var index in db.GetCollection("$indexes").FindAll().ToList())
                foreach (var _ in db.GetCollection(index["collection"].AsString).Find(Query.All(index["name"].AsString))) { }
            return null;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            try { Directory.Delete(folder, recursive: true); } catch (IOException) { }
        }
    }
}

/// <summary>
/// The lock every store operation holds, per database file, in two layers. A named mutex (the OS frees it when its owner
/// dies) orders the processes of one machine and the threads of one process; under it, a <see cref="FileLease"/> in
/// <c>&lt;database&gt;.lock/</c> beside the file orders processes on different hosts that share the folder (NFS), where
/// a named mutex does not reach and OS file locks may not work. A holder killed with SIGKILL leaves its lease file,
/// which the next one takes over at once on the same machine (the process is gone) and after
/// <see cref="StaleAfter"/> from another host. In a folder this process cannot write to (a read-only shard being
/// merged) only the mutex is taken. Reentrant on one thread.
/// </summary>
internal sealed class StoreLock : IDisposable
{
    /// <summary>A holder on another host that has not renewed its lease for this long is taken over; an operation holds it for milliseconds.</summary>
    public static readonly TimeSpan StaleAfter = TimeSpan.FromSeconds(60);

    private static readonly Dictionary<string, (FileLease? Lease, int Depth)> Holds = [];
    private readonly Mutex _mutex;
    private readonly string _leaseFolder;

    private StoreLock(Mutex mutex, string leaseFolder) => (_mutex, _leaseFolder) = (mutex, leaseFolder);

    /// <summary>The lock of the database at <paramref name="path"/> (by full path).</summary>
    public static StoreLock For(string path)
    {
        var full = Path.GetFullPath(path);
        var hash = SHA256.HashData(Encoding.UTF8.GetBytes(full));
        return new StoreLock(new Mutex(false, @"Global\crate-results-" + Convert.ToHexStringLower(hash)[..32]), full + ".lock");
    }

    /// <summary>Waits for the lock; an owner that died while holding it (kill -9) hands it over.</summary>
    public Held Acquire()
    {
        try
        {
            _mutex.WaitOne();
        }
        catch (AbandonedMutexException)
        {
            // The previous owner was killed; we own the mutex now and LiteDB's WAL covers its half-done write.
        }
        try
        {
            lock (Holds)
                if (Holds.TryGetValue(_leaseFolder, out var held))
                {
                    Holds[_leaseFolder] = held with { Depth = held.Depth + 1 };
                    return new Held(this);
                }
            var lease = AcquireLease();
            lock (Holds) Holds[_leaseFolder] = (lease, 1);
            return new Held(this);
        }
        catch
        {
            _mutex.ReleaseMutex();
            throw;
        }
    }

    private FileLease? AcquireLease()
    {
        var options = new LeaseOptions("results database lock", StaleAfter);
        var pause = TimeSpan.FromMilliseconds(1);
        while (true)
        {
            FileLease? lease;
            try { lease = FileLease.TryAcquire(_leaseFolder, options, out _, out _); }
            catch (Exception e) when (e is UnauthorizedAccessException or IOException)
            {
                // Not writable here (read-only folder or file system, or a full disk, which LiteDB then reports itself).
                return null;
            }
            if (lease is not null) return lease;
            Thread.Sleep(pause);   // another host writes the database
            pause = TimeSpan.FromMilliseconds(Math.Min(pause.TotalMilliseconds * 2, 100));
        }
    }

    private void Exit()
    {
        FileLease? release = null;
        lock (Holds)
        {
            var held = Holds[_leaseFolder];
            if (held.Depth > 1) Holds[_leaseFolder] = held with { Depth = held.Depth - 1 };
            else
            {
                Holds.Remove(_leaseFolder);
                release = held.Lease;
            }
        }
        release?.Release();
        _mutex.ReleaseMutex();
    }

    public void Dispose() => _mutex.Dispose();

    /// <summary>Releases the lock when disposed.</summary>
    public readonly struct Held(StoreLock owner) : IDisposable
    {
        public void Dispose() => owner.Exit();
    }
}
