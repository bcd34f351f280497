using Crate.Core.Contract;
using LiteDB;

namespace Crate.Results;

/// <summary>
/// Documents of the <c>epochs</c> collection: one per (run, epoch), id <c>{run}:{epoch:D6}</c>,
/// indexed on <see cref="RunKey"/>.
/// </summary>
internal sealed class EpochDocument
{
    public string Id { get; set; } = "";
    public string RunKey { get; set; } = "";
    public int Epoch { get; set; }
    public long Step { get; set; }
    public Dictionary<string, double> Metrics { get; set; } = new();

    public static string IdOf(string runKey, int epoch) => $"{runKey}:{epoch:D6}";

    public static EpochDocument From(string runKey, EpochRow row) => new()
    {
        Id = IdOf(runKey, row.Epoch),
        RunKey = runKey,
        Epoch = row.Epoch,
        Step = row.Step,
        Metrics = new Dictionary<string, double>(row.Metrics),
    };

    public EpochRow ToRow() => new(Epoch, Step, Metrics);
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
