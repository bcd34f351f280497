using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Text.Json;

namespace Crate.Core.Runtime;

/// <summary>The content of one lease file: who holds it, since when, and its last heartbeat.</summary>
public sealed record LeaseRecord
{
    /// <summary>What holds it, in words (e.g. "reproduce vit/crate seed 0").</summary>
    public string Holder { get; init; } = "";
    /// <summary>Host name of the holder.</summary>
    public string Host { get; init; } = "";
    /// <summary>Process id of the holder.</summary>
    public int Pid { get; init; }
    /// <summary><see cref="ProcessIdentity.ProcessStart"/> of the holder.</summary>
    public string ProcessStart { get; init; } = "";
    /// <summary><see cref="ProcessIdentity.Machine"/> of the holder.</summary>
    public string Machine { get; init; } = "";
    /// <summary>Random id of this acquisition.</summary>
    public string Token { get; init; } = "";
    /// <summary>When it was taken (UTC).</summary>
    public DateTime AcquiredUtc { get; init; }
    /// <summary>The holder's last sign of life (UTC, its own clock).</summary>
    public DateTime HeartbeatUtc { get; init; }
    /// <summary>When it was released (UTC); null while held.</summary>
    public DateTime? ReleasedUtc { get; init; }

    /// <summary>The holding process.</summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public ProcessIdentity Owner => new(Host, Pid, ProcessStart, Machine);
}

/// <summary>How a lease looks to someone who wants it.</summary>
public enum LeaseStatus
{
    /// <summary>Released: the next attempt takes it.</summary>
    Free,
    /// <summary>Held by a live holder.</summary>
    Alive,
    /// <summary>Held by a holder that is gone (its process ended) or silent for longer than the stale timeout: taken over.</summary>
    Stale,
}

/// <summary>The newest lease file of a folder as judged now.</summary>
/// <param name="Generation">Its number.</param>
/// <param name="Record">Its content; null while it is being written (or when it cannot be read).</param>
/// <param name="Status">Free, alive or stale.</param>
/// <param name="Reason">Why stale (or alive), in words.</param>
public sealed record LeaseView(long Generation, LeaseRecord? Record, LeaseStatus Status, string Reason)
{
    /// <summary>"host node7, pid 1234, since 2026-01-02 10:00:00Z, last heartbeat 3 s ago", for a message.</summary>
    public string Describe()
    {
        if (Record is not { } r) return $"an attempt whose lease file is being written ({Reason})";
        var beat = DateTime.UtcNow - r.HeartbeatUtc;
        return $"{r.Owner}, since {r.AcquiredUtc.ToString("u", CultureInfo.InvariantCulture)}, last heartbeat " +
               $"{Math.Max(0, beat.TotalSeconds):0} s ago";
    }
}

/// <summary>How a lease is held: who holds it (in words) and after how long without a heartbeat it is stale.</summary>
/// <param name="Holder">What holds it, written into the file.</param>
/// <param name="StaleAfter">A holder whose last heartbeat is older than this is taken over; it renews every tenth of it.</param>
public sealed record LeaseOptions(string Holder, TimeSpan StaleAfter)
{
    /// <summary>How often the holder renews its heartbeat: a tenth of <see cref="StaleAfter"/>.</summary>
    public TimeSpan Heartbeat => StaleAfter / 10;
}

/// <summary>
/// An exclusive lease on a folder, safe across processes and across hosts that share the folder (NFS included), without
/// OS file locks. The folder holds numbered lease files, <c>000000000001.lease</c>, <c>000000000002.lease</c>, ...;
/// the highest number is the lease. To take it, an attempt creates the next number with an exclusive create
/// (<c>O_CREAT|O_EXCL</c>, atomic on local file systems and NFS v3+): of two attempts that both found the lease free
/// or stale, exactly one creates that name and the other looks again. Nobody but its holder ever writes a lease file
/// (a heartbeat or the release replaces it by rename), and a takeover never touches the stale file: it creates the
/// next one. So a holder that was judged stale (stalled, or cut off from the storage) and comes back finds a higher
/// number on its next heartbeat or <see cref="Verify"/> and knows it lost the lease (<see cref="LostToken"/>), instead
/// of two holders overwriting one file. Files older than the lease are removed by its holder.
/// <para>
/// A holder is stale when its process is gone (same machine: <see cref="ProcessIdentity.IsGone"/>, so a killed attempt
/// is taken over at once) or when its heartbeat is older than <see cref="LeaseOptions.StaleAfter"/> (another host,
/// another container: clocks must agree to well within that). <see cref="ReleaseAll"/> runs at process exit.
/// </para>
/// </summary>
public sealed class FileLease : IDisposable
{
    /// <summary>A lease file that stays unreadable (created, never written: its writer died) this long, watched from here, is stale.</summary>
    public static readonly TimeSpan UnreadableGrace = TimeSpan.FromSeconds(5);

    private const string Extension = ".lease";
    private static readonly JsonSerializerOptions Json = new() { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.CamelCase };
    private static readonly HashSet<FileLease> Held = [];
    private static readonly ConcurrentDictionary<string, long> UnreadableSince = new();

    private readonly object _gate = new();
    private readonly LeaseOptions _options;
    private readonly CancellationTokenSource _lost = new();
    private readonly Timer _heartbeat;
    private LeaseRecord _record;
    private bool _released;

    static FileLease() => AppDomain.CurrentDomain.ProcessExit += (_, _) => ReleaseAll();

    private FileLease(string folder, long generation, LeaseRecord record, LeaseOptions options)
    {
        (Folder, Generation, _record, _options) = (folder, generation, record, options);
        _heartbeat = new Timer(_ => Beat(), null, Timeout.Infinite, Timeout.Infinite);
    }

    /// <summary>The lease folder.</summary>
    public string Folder { get; }

    /// <summary>The number of this lease's file.</summary>
    public long Generation { get; }

    /// <summary>This lease's file.</summary>
    public string FilePath => PathOf(Folder, Generation);

    /// <summary>What this holder wrote into its file.</summary>
    public LeaseRecord Record { get { lock (_gate) return _record; } }

    /// <summary>Cancelled when a heartbeat or <see cref="Verify"/> finds that another attempt took the lease over.</summary>
    public CancellationToken LostToken => _lost.Token;

    /// <summary>Why the lease was lost (who holds it now), or null while it is held.</summary>
    public string? LostReason { get; private set; }

    /// <summary>
    /// Takes the lease of <paramref name="folder"/> (created if missing) when it is free, released or stale; returns null
    /// when a live holder has it, described by <paramref name="busy"/>. <paramref name="tookOver"/> is the stale lease
    /// that was taken over, or null. The lease renews its heartbeat until <see cref="Release"/>.
    /// </summary>
    public static FileLease? TryAcquire(string folder, LeaseOptions options, out LeaseView? busy, out LeaseView? tookOver)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(options.StaleAfter, TimeSpan.FromMilliseconds(100));
        Directory.CreateDirectory(folder);
        while (true)
        {
            var (generation, view) = Look(folder, options.StaleAfter);
            if (view is { Status: LeaseStatus.Alive })
            {
                (busy, tookOver) = (view, null);
                return null;
            }
            var me = ProcessIdentity.Current;
            var now = DateTime.UtcNow;
            var record = new LeaseRecord
            {
                Holder = options.Holder, Host = me.Host, Pid = me.Pid, ProcessStart = me.ProcessStart, Machine = me.Machine,
                Token = Guid.NewGuid().ToString("N"), AcquiredUtc = now, HeartbeatUtc = now,
            };
            // Registered before its file exists, so a thread of this process that reads the new file never takes it for an orphan.
            var lease = new FileLease(folder, generation + 1, record, options);
            lock (Held) Held.Add(lease);
            bool created;
            try { created = TryCreate(lease.FilePath, record); }
            catch
            {
                lease.Forget();
                throw;
            }
            if (!created)
            {
                lease.Forget();
                continue;   // another attempt took this number first: look again
            }
            lease.RemoveOlderFiles();
            lease._heartbeat.Change(options.Heartbeat, Timeout.InfiniteTimeSpan);
            (busy, tookOver) = (null, view is { Status: LeaseStatus.Stale } ? view : null);
            return lease;
        }
    }

    /// <summary>The lease of <paramref name="folder"/> as judged now, or null when it was never taken.</summary>
    public static LeaseView? Peek(string folder, TimeSpan staleAfter) => Directory.Exists(folder) ? Look(folder, staleAfter).View : null;

    /// <summary>
    /// Releases, on its behalf, the lease of <paramref name="folder"/> when its holder is the process <paramref name="pid"/>
    /// of this machine and that process has ended (a job process that was killed: its parent cleans up). Returns whether it did.
    /// </summary>
    public static bool ReleaseIfGone(string folder, int pid)
    {
        if (!Directory.Exists(folder)) return false;
        var (generation, _) = Top(folder);
        if (generation == 0 || Read(PathOf(folder, generation)) is not { ReleasedUtc: null } record) return false;
        if (record.Pid != pid || record.Machine != ProcessIdentity.Current.Machine || !record.Owner.IsGone()) return false;
        try { Replace(folder, generation, record with { ReleasedUtc = DateTime.UtcNow }); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return false; }
        return true;
    }

    /// <summary>Releases every lease this process holds (at exit, and on a second Ctrl-C before the process dies).</summary>
    public static void ReleaseAll()
    {
        List<FileLease> held;
        lock (Held) held = [.. Held];
        foreach (var lease in held) lease.Release();
    }

    /// <summary>
    /// Checks, by reading the folder now, that this lease is still the newest and ours; returns null when it is, else
    /// why not (and marks it lost). An I/O error that says nothing (a hiccup of the storage) counts as still held.
    /// </summary>
    public string? Verify()
    {
        string? lost;
        lock (_gate)
        {
            if (LostReason is { } already) return already;
            if (_released) return "the lease was released";
            lost = Check();
            if (lost is not null) LostReason = lost;
        }
        if (lost is not null) _lost.Cancel();
        return lost;
    }

    /// <summary>Marks the lease released (its file stays, as the record of the last attempt) and stops the heartbeat. Idempotent.</summary>
    public void Release()
    {
        lock (_gate)
        {
            if (_released) return;
            _released = true;
            _heartbeat.Change(Timeout.Infinite, Timeout.Infinite);
            _heartbeat.Dispose();
            lock (Held) Held.Remove(this);
            if (LostReason is not null) return;
            try { Replace(Folder, Generation, _record = _record with { ReleasedUtc = DateTime.UtcNow }); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // then it goes stale, as after a kill
        }
    }

    /// <inheritdoc />
    public void Dispose() => Release();

    /// <summary>Drops a lease whose file was never created.</summary>
    private void Forget()
    {
        lock (_gate) _released = true;
        _heartbeat.Dispose();
        lock (Held) Held.Remove(this);
    }

    private void Beat()
    {
        bool lost = false;
        lock (_gate)
        {
            if (_released || LostReason is not null) return;
            if (Check() is { } why) { LostReason = why; lost = true; }
            else
            {
                try { Replace(Folder, Generation, _record = _record with { HeartbeatUtc = DateTime.UtcNow }); }
                catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }   // try again next time
                _heartbeat.Change(_options.Heartbeat, Timeout.InfiniteTimeSpan);
            }
        }
        if (lost) _lost.Cancel();
    }

    /// <summary>Null when this lease is the newest file and holds our token, else who or what replaced it.</summary>
    private string? Check()
    {
        try
        {
            var (generation, view) = Look(Folder, _options.StaleAfter);
            if (generation > Generation) return $"another attempt took it over: {view?.Describe()}";
            if (generation < Generation) return $"its file {FilePath} was removed";
            if (view?.Record is { } r && r.Token != _record.Token) return $"its file {FilePath} holds another attempt's lease";
            return null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { return null; }
    }

    private void RemoveOlderFiles()
    {
        try
        {
            foreach (var file in Directory.EnumerateFiles(Folder))
            {
                bool old = Path.GetFileName(file).EndsWith(".tmp", StringComparison.Ordinal)
                           || (GenerationOf(file) is { } g && g < Generation);
                if (old) TryDelete(file);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }

    private static (long Generation, LeaseView? View) Look(string folder, TimeSpan staleAfter)
    {
        for (int tries = 0; ; tries++)
        {
            var (generation, path) = Top(folder);
            if (generation == 0) return (0, null);
            var view = Judge(path!, generation, staleAfter, out bool vanished);
            if (!vanished) return (generation, view);
            // Removed between the listing and the read: a newer lease file exists now (or the folder is being removed).
            if (tries == 1000) throw new IOException($"the lease files of {folder} keep vanishing while being read");
        }
    }

    private static LeaseView? Judge(string path, long generation, TimeSpan staleAfter, out bool vanished)
    {
        vanished = false;
        LeaseRecord? record;
        DateTime written;
        try
        {
            written = File.GetLastWriteTimeUtc(path);
            record = Read(path);
        }
        catch (FileNotFoundException) { vanished = true; return null; }
        catch (DirectoryNotFoundException) { vanished = true; return null; }
        if (record is null)
        {
            // Being written right now, or its writer died between creating and writing it: stale once it has stayed
            // unreadable for a while as seen from here (this clock only), or its time stamp is older than the timeout.
            long first = UnreadableSince.GetOrAdd(path, _ => Stopwatch.GetTimestamp());
            bool silent = Stopwatch.GetElapsedTime(first) > UnreadableGrace || DateTime.UtcNow - written > staleAfter;
            return new LeaseView(generation, null, silent ? LeaseStatus.Stale : LeaseStatus.Alive,
                silent ? "its lease file was left unreadable" : "its lease file is being written");
        }
        UnreadableSince.TryRemove(path, out _);
        if (record.ReleasedUtc is not null) return new LeaseView(generation, record, LeaseStatus.Free, "released");
        if (record.Owner.IsGone()) return new LeaseView(generation, record, LeaseStatus.Stale, $"process {record.Pid} is gone");
        if (IsOrphanOfThisProcess(record)) return new LeaseView(generation, record, LeaseStatus.Stale, "this process no longer holds it");
        var silence = DateTime.UtcNow - record.HeartbeatUtc;
        if (silence > staleAfter)
            return new LeaseView(generation, record, LeaseStatus.Stale,
                $"no heartbeat for {silence.TotalSeconds:0} s (stale after {staleAfter.TotalSeconds:0} s)");
        return new LeaseView(generation, record, LeaseStatus.Alive, "alive");
    }

    /// <summary>A lease file of this very process that no live <see cref="FileLease"/> holds (its release could not be written).</summary>
    private static bool IsOrphanOfThisProcess(LeaseRecord record)
    {
        var me = ProcessIdentity.Current;
        if (record.Pid != me.Pid || record.Machine != me.Machine || record.ProcessStart != me.ProcessStart) return false;
        lock (Held) return !Held.Any(l => l._record.Token == record.Token);
    }

    private static (long Generation, string? Path) Top(string folder)
    {
        long best = 0;
        string? path = null;
        foreach (var file in Directory.EnumerateFiles(folder, "*" + Extension))
            if (GenerationOf(file) is { } g && g > best) (best, path) = (g, file);
        return (best, path);
    }

    private static long? GenerationOf(string file) =>
        Path.GetFileName(file) is { } name && name.EndsWith(Extension, StringComparison.Ordinal)
        && long.TryParse(name[..^Extension.Length], NumberStyles.None, CultureInfo.InvariantCulture, out long g) ? g : null;

    private static string PathOf(string folder, long generation) =>
        Path.Combine(folder, generation.ToString("D12", CultureInfo.InvariantCulture) + Extension);

    private static LeaseRecord? Read(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        if (bytes.Length == 0) return null;
        try { return JsonSerializer.Deserialize<LeaseRecord>(bytes, Json) is { Token.Length: > 0 } r ? r : null; }
        catch (JsonException) { return null; }
    }

    /// <summary>Creates <paramref name="path"/> exclusively with <paramref name="record"/>; false when it exists.</summary>
    private static bool TryCreate(string path, LeaseRecord record)
    {
        var bytes = JsonSerializer.SerializeToUtf8Bytes(record, Json);
        FileStream stream;
        try { stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write, FileShare.Read | FileShare.Delete); }
        catch (IOException) when (File.Exists(path)) { return false; }
        try
        {
            using (stream) stream.Write(bytes);
        }
        catch
        {
            TryDelete(path);
            throw;
        }
        return true;
    }

    /// <summary>Replaces lease file <paramref name="generation"/> by a complete new one (write a temporary file, rename it over).</summary>
    private static void Replace(string folder, long generation, LeaseRecord record)
    {
        var temp = Path.Combine(folder, $"{generation.ToString("D12", CultureInfo.InvariantCulture)}.{Guid.NewGuid():N}.tmp");
        try
        {
            File.WriteAllBytes(temp, JsonSerializer.SerializeToUtf8Bytes(record, Json));
            File.Move(temp, PathOf(folder, generation), overwrite: true);
        }
        finally { TryDelete(temp); }
    }

    private static void TryDelete(string path)
    {
        try { File.Delete(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
