using Crate.Core.Contract;
using Crate.Core.Runtime;
using LiteDB;

namespace Crate.Results;

/// <summary>
/// The results database: <c>&lt;out&gt;/results.db</c>, a LiteDB 5 file opened in shared mode so
/// several processes (a run, a report, a second shard on the same folder) can use it at once.
/// Collections: <c>runs</c> (<see cref="RunRecord"/>, id = run key), <c>epochs</c> (one document
/// per evaluation row, by run, phase and step) and <c>whitebox</c> (one per run, split, measure and layer), the last two
/// indexed on the run key.
/// </summary>
/// <remarks>
/// Every call is one durable write or read: it takes the store lock (<see cref="StoreLock"/>: a named mutex
/// per file for the processes of one machine, a lease file in <c>results.db.lock/</c> for processes on other
/// hosts sharing the folder), LiteDB opens the file, runs the operation as one transaction, checkpoints its WAL
/// into the data file and closes it, so the next holder, on this host or another, reads it from the file. A process killed mid-write leaves its last transaction either whole or absent
/// (LiteDB replays only confirmed transactions from <c>results-log.db</c>). Instances are thread-safe.
/// </remarks>
public sealed class ResultsStore : IDisposable
{
    /// <summary>File name of the database inside an output folder.</summary>
    public const string FileName = "results.db";

    private const string RunsName = "runs";
    private const string EpochsName = "epochs";
    private const string WhiteBoxName = "whitebox";

    private readonly LiteDatabase _db;
    private readonly StoreLock _lock;
    private readonly ILiteCollection<RunRecord> _runs;
    private readonly ILiteCollection<EpochDocument> _epochs;
    private readonly ILiteCollection<WhiteBoxDocument> _whiteBox;

    private ResultsStore(string path, LiteDatabase db, StoreLock storeLock)
    {
        DatabasePath = path;
        _db = db;
        _lock = storeLock;
        _runs = db.GetCollection<RunRecord>(RunsName);
        _epochs = db.GetCollection<EpochDocument>(EpochsName);
        _whiteBox = db.GetCollection<WhiteBoxDocument>(WhiteBoxName);
    }

    /// <summary>
    /// True when opening found LiteDB's "damaged" mark left by a failed write (a full disk) on a file whose every
    /// document and index read back intact, and cleared it (<see cref="DatabaseFile.ClearDamageMarkIfIntact"/>).
    /// </summary>
    public bool ClearedDamageMark { get; private init; }

    /// <summary>Full path of the database file.</summary>
    public string DatabasePath { get; }

    /// <summary>Opens (or creates) <c>&lt;outDirectory&gt;/results.db</c>, creating the folder.</summary>
    /// <exception cref="ResultsStoreException">The file exists and is not an intact LiteDB database; it is left as it was.</exception>
    public static ResultsStore Open(string outDirectory)
    {
        Directory.CreateDirectory(outDirectory);
        return OpenFile(Path.Combine(outDirectory, FileName));
    }

    /// <summary>Opens (or creates) the database file at <paramref name="databasePath"/>.</summary>
    /// <exception cref="ResultsStoreException">The file exists and is not an intact LiteDB database; it is left as it was.</exception>
    public static ResultsStore OpenFile(string databasePath) => OpenFile(databasePath, readOnly: false);

    private static ResultsStore OpenFile(string databasePath, bool readOnly)
    {
        var path = Path.GetFullPath(databasePath);
        bool cleared = !readOnly && DatabaseFile.ClearDamageMarkIfIntact(path);
        DatabaseFile.Check(path);
        var storeLock = StoreLock.For(path);
        LiteDatabase? db = null;
        try
        {
            var connection = new ConnectionString { Filename = path, Connection = ConnectionType.Shared, ReadOnly = readOnly };
            db = new LiteDatabase(connection, StoreMapper.Create());
            var store = new ResultsStore(path, db, storeLock) { ClearedDamageMark = cleared };
            if (!readOnly)
                store.Locked(() =>
                {
                    store._runs.EnsureIndex(r => r.Task);
                    store._epochs.EnsureIndex(e => e.RunKey);
                    store._whiteBox.EnsureIndex(w => w.RunKey);
                });
            return store;
        }
        catch (Exception e) when (e is LiteException or IOException or UnauthorizedAccessException)
        {
            db?.Dispose();
            storeLock.Dispose();
            throw new ResultsStoreException($"results database {path} could not be opened: {e.Message}", e);
        }
    }

    /// <summary>The run with key <paramref name="key"/>, or null.</summary>
    public RunRecord? GetRun(string key) => Locked(() => _runs.FindById(key));

    /// <summary>Inserts or replaces the run document (by <see cref="RunRecord.Id"/>).</summary>
    public void UpsertRun(RunRecord run)
    {
        ArgumentException.ThrowIfNullOrEmpty(run.Id, nameof(run) + "." + nameof(RunRecord.Id));
        Write(() => _runs.Upsert(run));
    }

    /// <summary>Every run (of <paramref name="task"/> when given), ordered by task, preset, model and seed.</summary>
    public IReadOnlyList<RunRecord> Runs(string? task = null)
    {
        var runs = Locked(() => task is null ? _runs.FindAll().ToList() : _runs.Find(r => r.Task == task).ToList());
        return runs.OrderBy(r => r.Task, StringComparer.Ordinal).ThenBy(r => r.Preset, StringComparer.Ordinal)
            .ThenBy(r => r.Model, StringComparer.Ordinal).ThenBy(r => r.Seed).ThenBy(r => r.Id, StringComparer.Ordinal)
            .ToList();
    }

    /// <summary>Deletes a run with its epochs and white-box rows; returns whether the run existed.</summary>
    public bool DeleteRun(string key) => Write(() => Transaction(() =>
    {
        _epochs.DeleteMany(e => e.RunKey == key);
        _whiteBox.DeleteMany(w => w.RunKey == key);
        return _runs.Delete(key);
    }));

    /// <summary>
    /// Stores one evaluation row at once (upsert by run, phase and step, so a resumed run rewrites the rows
    /// after its checkpoint and two evaluations in one epoch are two rows).
    /// </summary>
    public void AddEpoch(string runKey, EpochRow row)
    {
        ArgumentException.ThrowIfNullOrEmpty(runKey);
        var document = EpochDocument.From(runKey, row);
        Write(() => _epochs.Upsert(document));
    }

    /// <summary>Deletes the epoch rows of <paramref name="runKey"/> after <paramref name="epoch"/> (for a resume from that epoch's checkpoint); returns how many.</summary>
    public int DeleteEpochsAfter(string runKey, int epoch) =>
        Write(() => _epochs.DeleteMany(e => e.RunKey == runKey && e.Epoch > epoch));

    /// <summary>The evaluation rows of a run in training order: phase by phase, each by step.</summary>
    public IReadOnlyList<EpochRow> Epochs(string runKey) =>
        EpochDocument.InTrainingOrder(Locked(() => _epochs.Find(e => e.RunKey == runKey).ToList()))
            .Select(e => e.ToRow()).ToList();

    /// <summary>Stores white-box rows in one transaction (upsert by run, split, measure and layer).</summary>
    public void SetWhiteBox(string runKey, IReadOnlyList<WhiteBoxRow> rows)
    {
        ArgumentException.ThrowIfNullOrEmpty(runKey);
        var documents = rows.Select(r => WhiteBoxDocument.From(runKey, r)).ToList();
        if (documents.Count > 0)
            Write(() => _whiteBox.Upsert(documents));
    }

    /// <summary>The white-box rows of a run, by split, measure and layer.</summary>
    public IReadOnlyList<WhiteBoxRow> WhiteBox(string runKey) =>
        Locked(() => _whiteBox.Find(w => w.RunKey == runKey).ToList())
            .OrderBy(w => w.Split, StringComparer.Ordinal).ThenBy(w => w.Measure, StringComparer.Ordinal)
            .ThenBy(w => w.Layer).Select(w => w.ToRow()).ToList();

    /// <summary>
    /// Folds another results database (a shard's <c>results.db</c>, or its output folder) into this one and
    /// returns how many runs were taken from it. A run missing here is copied with its epochs and white-box
    /// rows; a run present in both (a retried shard, a run that moved to another shard) is replaced only when
    /// the other record is preferred by <see cref="Supersedes"/>: a finished run over an unfinished one, and
    /// between two unfinished ones the later attempt. A replaced run's rows are all replaced by the other's,
    /// so no row is ever duplicated, and merging the same database again changes nothing. Each run is merged
    /// in one transaction; the other database is opened read-only and never modified.
    /// </summary>
    /// <exception cref="ResultsStoreException">The other file is missing, is this database, or is not an intact results database.</exception>
    public int MergeFrom(string otherDatabasePath)
    {
        var otherPath = Path.GetFullPath(Directory.Exists(otherDatabasePath)
            ? Path.Combine(otherDatabasePath, FileName) : otherDatabasePath);
        if (!File.Exists(otherPath))
            throw new ResultsStoreException($"cannot merge {otherPath}: no such file");
        if (otherPath == DatabasePath)
            throw new ResultsStoreException($"cannot merge {otherPath} into itself");
        using var other = OpenFile(otherPath, readOnly: true);
        var merged = 0;
        foreach (var theirs in other.Runs())
        {
            if (!Supersedes(theirs, GetRun(theirs.Id)))
                continue;
            var epochs = other.Locked(() => other._epochs.Find(e => e.RunKey == theirs.Id).ToList());
            var whiteBox = other.Locked(() => other._whiteBox.Find(w => w.RunKey == theirs.Id).ToList());
            Locked(() => Transaction(() =>
            {
                _epochs.DeleteMany(e => e.RunKey == theirs.Id);
                _whiteBox.DeleteMany(w => w.RunKey == theirs.Id);
                FaultPoints.Reach("merge");
                _runs.Upsert(theirs);
                _epochs.Upsert(epochs);
                _whiteBox.Upsert(whiteBox);
                return true;
            }));
            merged++;
        }
        return merged;
    }

    /// <summary>
    /// Whether a merge replaces <paramref name="ours"/> by <paramref name="theirs"/> (same run key): always when
    /// there is none here; a <see cref="RunStatus.Finished"/> record is never replaced and always replaces an
    /// unfinished one; between two unfinished records the one whose latest attempt started later wins. Ties keep
    /// ours, so the rule is strict and a repeated merge is a no-op.
    /// </summary>
    public static bool Supersedes(RunRecord theirs, RunRecord? ours)
    {
        if (ours is null) return true;
        bool theirsFinished = theirs.Status == RunStatus.Finished, oursFinished = ours.Status == RunStatus.Finished;
        if (theirsFinished != oursFinished) return theirsFinished;
        if (oursFinished) return false;
        return (theirs.StartedUtc ?? DateTime.MinValue) > (ours.StartedUtc ?? DateTime.MinValue);
    }

    /// <summary>Closes the database.</summary>
    public void Dispose()
    {
        _db.Dispose();
        _lock.Dispose();
    }

    private void Locked(Action action) => Locked(() => { action(); return true; });

    /// <summary>A write under the lock; the chaos test can pause right after it, the lock still held (<see cref="FaultPoints"/>).</summary>
    private T Write<T>(Func<T> operation) => Locked(() =>
    {
        var result = operation();
        FaultPoints.Reach("db-write");
        return result;
    });

    private T Locked<T>(Func<T> operation)
    {
        using (_lock.Acquire())
        {
            try
            {
                return operation();
            }
            catch (Exception e) when (e is not (ResultsStoreException or OutOfMemoryException or OperationCanceledException
                                           or IOException or UnauthorizedAccessException))
            {
                // LiteDB on a damaged file throws whatever its page walk trips on (LiteException, IndexOutOfRange, ...);
                // the open-time probe catches most damage, this names the file for the rest. I/O errors (a full disk)
                // pass unchanged: the file is not damaged and the caller decides.
                throw DatabaseFile.Corrupt(DatabasePath, $"{e.GetType().Name}: {e.Message}", e);
            }
        }
    }

    private T Transaction<T>(Func<T> operation)
    {
        _db.BeginTrans();
        try
        {
            var result = operation();
            _db.Commit();
            return result;
        }
        catch
        {
            _db.Rollback();
            throw;
        }
    }
}
