namespace Crate.Core.Contract;

/// <summary>
/// Version of the task-plugin contract. A plugin records the version it was compiled against with
/// <see cref="CratePluginAttribute"/>; the host loads only plugins whose version equals its own.
/// Bump on any breaking change to the types in this namespace.
/// </summary>
public static class PluginContract
{
    /// <summary>The contract version this build of Crate.Core implements.</summary>
    /// <remarks>
    /// 2: run phases (<see cref="RunPhase"/>, <see cref="IRunContext.Phase"/>), evaluation rows keyed by
    /// (run, phase, step) (<see cref="EpochRow.Phase"/>, <see cref="ProgressInfo.Phase"/>).
    /// 3: control metrics (<see cref="MetricInfo.Control"/>), the shared cache folder (<see cref="IRunContext.CacheDirectory"/>).
    /// </remarks>
    public const int Version = 3;
}

/// <summary>
/// Marks an assembly as a CRATE task plugin: <c>[assembly: CratePlugin(PluginContract.Version)]</c>.
/// The constant is compiled into the plugin, so the host sees the version the plugin was built with.
/// </summary>
[AttributeUsage(AttributeTargets.Assembly)]
public sealed class CratePluginAttribute(int contractVersion) : Attribute
{
    /// <summary>Contract version the plugin was compiled against.</summary>
    public int ContractVersion { get; } = contractVersion;
}
