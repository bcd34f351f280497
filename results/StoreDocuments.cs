using Crate.Core.Contract;
using LiteDB;

namespace Crate.Results;

/// <summary>
/// Documents of the <c>epochs</c> collection: one per evaluation row, identified by (run, phase, step), id
/// <c>{run}:{phase}:{step:D12}</c>, indexed on <see cref="RunKey"/>. Several evaluations in one nominal epoch
/// (<c>eval_every</c>) are separate rows; a resumed run rewrites the rows after its checkpoint with the same ids.
/// Databases written before phases existed hold ids <c>{run}:{epoch:D6}</c> and no phase: they read as
/// phase <c>train</c>.
/// </summary>
internal sealed class EpochDocument
{
    public string Id { get; set; } = "";
    public string RunKey { get; set; } = "";
    public string? Phase { get; set; }
    public int Epoch { get; set; }
    public long Step { get; set; }
    public DateTime WrittenUtc { get; set; }
    public Dictionary<string, double> Metrics { get; set; } = new();

    public string PhaseName => Phase ?? RunPhase.Train;

    public static string IdOf(string runKey, string phase, long step) => $"{runKey}:{phase}:{step:D12}";

    public static EpochDocument From(string runKey, EpochRow row) => new()
    {
        Id = IdOf(runKey, row.Phase, row.Step),
        RunKey = runKey,
        Phase = row.Phase,
        Epoch = row.Epoch,
        Step = row.Step,
        WrittenUtc = DateTime.UtcNow,
        Metrics = new Dictionary<string, double>(row.Metrics),
    };

    public EpochRow ToRow() => new(Epoch, Step, Metrics, PhaseName);

    /// <summary>
    /// Rows in training order: phases in the order they were first written (a later phase starts after the
    /// earlier one ended), then by step, then by epoch (for databases written before rows were keyed by step).
    /// </summary>
    public static IEnumerable<EpochDocument> InTrainingOrder(IEnumerable<EpochDocument> documents)
    {
        var list = documents.ToList();
        var phaseStart = list.GroupBy(d => d.PhaseName).ToDictionary(g => g.Key, g => g.Min(d => d.WrittenUtc), StringComparer.Ordinal);
        return list.OrderBy(d => phaseStart[d.PhaseName]).ThenBy(d => d.PhaseName, StringComparer.Ordinal)
            .ThenBy(d => d.Step).ThenBy(d => d.Epoch);
    }
}

/// <summary>
/// Documents of the <c>whitebox</c> collection: one per (run, split, measure, layer),
/// id <c>{run}:{split}:{measure}:{layer:D4}</c>, indexed on <see cref="RunKey"/>.
/// </summary>
internal sealed class WhiteBoxDocument
{
    public string Id { get; set; } = "";
    public string RunKey { get; set; } = "";
    public int Layer { get; set; }
    public string Measure { get; set; } = "";
    public string Split { get; set; } = "";
    public double Mean { get; set; }
    public double Std { get; set; }
    public int Samples { get; set; }

    public static string IdOf(string runKey, string split, string measure, int layer) =>
        $"{runKey}:{split}:{measure}:{layer:D4}";

    public static WhiteBoxDocument From(string runKey, WhiteBoxRow row) => new()
    {
        Id = IdOf(runKey, row.Split, row.Measure, row.Layer),
        RunKey = runKey,
        Layer = row.Layer,
        Measure = row.Measure,
        Split = row.Split,
        Mean = row.Mean,
        Std = row.Std,
        Samples = row.Samples,
    };

    public WhiteBoxRow ToRow() => new(Layer, Measure, Split, Mean, Std, Samples);
}

/// <summary>
/// The BSON mapping of the store: dates are stored and returned as UTC; strings come back exactly as
/// written (LiteDB's defaults would turn "" into null and trim whitespace).
/// </summary>
internal static class StoreMapper
{
    public static BsonMapper Create()
    {
        var mapper = new BsonMapper { EmptyStringToNull = false, TrimWhitespace = false };
        mapper.RegisterType<DateTime>(
            serialize: value => new BsonValue(value.Kind == DateTimeKind.Unspecified
                ? DateTime.SpecifyKind(value, DateTimeKind.Utc) : value.ToUniversalTime()),
            deserialize: bson => bson.AsDateTime.ToUniversalTime());
        return mapper;
    }
}
