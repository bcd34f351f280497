using System.CommandLine;
using System.Globalization;
using Crate.Core.Contract;
using Crate.Core.Data;
using Crate.Core.Interop;
using Crate.Core.Training;
using Crate.Host.Planning;
using Crate.Host.Plugins;
using Crate.Host.Running;
using Crate.Results;
using Microsoft.Extensions.Logging;
using TorchSharp;

namespace Crate.Host.Cli;

/// <summary>Exit codes of the <c>crate</c> command.</summary>
public static class ExitCodes
{
    /// <summary>Everything asked for succeeded.</summary>
    public const int Ok = 0;
    /// <summary>At least one run failed (the others completed), or the output folder's disk filled up (the plan stopped; rerun to resume); for <c>merge</c>: a shard database was skipped (the others were merged).</summary>
    public const int RunsFailed = 1;
    /// <summary>
    /// Bad input: usage, config, data or database error, found before anything ran; or found only by a run (a data file
    /// corrupt inside, a config the task refuses when it builds): that run is recorded as failed, the others ran.
    /// </summary>
    public const int BadInput = 2;
    /// <summary>An unexpected error (a bug or a failing library); <c>CRATE_LOG_LEVEL=Debug</c> prints the stack.</summary>
    public const int Internal = 3;
    /// <summary>Stopped by Ctrl-C; rerun to resume.</summary>
    public const int Interrupted = 130;
    /// <summary>
    /// Every run that did not finish here is being run right now by another attempt on the same folder (its run lease is
    /// alive; <c>[busy]</c> lines name it): those were skipped. Rerun once it ends, or pass <c>--wait</c> (75: EX_TEMPFAIL).
    /// </summary>
    public const int Busy = 75;
}

/// <summary>
/// The command tree: list, reproduce, report, merge, evaluate, sample; one file per command under <c>Cli/Commands/</c>,
/// the shared options and helpers here.
/// </summary>
public sealed partial class CliApp(ILoggerFactory loggers, TextWriter stdout, TextWriter stderr)
{
    /// <summary>Default seeds: several, so every comparison has a spread.</summary>
    public static readonly int[] DefaultSeeds = [0, 1, 2];

    private readonly Option<string[]> _plugins = new("--plugins")
    {
        Description = "Extra plugin folder or assembly (repeatable); the host's plugins/ folder is always scanned",
        Recursive = true, Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false,
    };
    private readonly Option<string> _out = new("--out")
    {
        Description = "Results folder: database and run folders", Recursive = true,
        DefaultValueFactory = _ => Environment.GetEnvironmentVariable("CRATE_OUT") is { Length: > 0 } o ? o : "runs",
    };

    /// <summary>Builds the root command.</summary>
    public RootCommand Build()
    {
        var root = new RootCommand("CRATE reproduction harness: white-box transformers (CRATE) against their baselines.");
        root.Options.Add(_plugins);
        root.Options.Add(_out);
        root.Subcommands.Add(ListCommand());
        root.Subcommands.Add(ReproduceCommand());
        root.Subcommands.Add(ReportCommand());
        root.Subcommands.Add(MergeCommand());
        root.Subcommands.Add(EvaluateCommand());
        root.Subcommands.Add(SampleCommand());
        return root;
    }

    /// <summary>The command line being run (a job of <c>reproduce --jobs N</c> is started with the same one).</summary>
    private string[] _args = [];

    /// <summary>Parses and runs; bad input is one line on stderr and exit code 2.</summary>
    public int Invoke(string[] args)
    {
        _args = args;
        var parsed = Build().Parse(args);
        if (parsed.Errors.Count > 0)
        {
            foreach (var e in parsed.Errors) stderr.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        try
        {
            return parsed.Invoke(new InvocationConfiguration { Output = stdout, Error = stderr, EnableDefaultExceptionHandler = false });
        }
        catch (Exception e) when (IsBadInput(e))
        {
            stderr.WriteLine($"error: {e.Message}");
            return ExitCodes.BadInput;
        }
        catch (Exception e)
        {
            stderr.WriteLine($"error: {PlanRunner.Cause(e)}");
            loggers.CreateLogger("crate").LogDebug(e, "unhandled");
            return ExitCodes.Internal;
        }
    }

    /// <summary>
    /// Errors caused by what the user gave (arguments, config keys, data files, checkpoints, the results
    /// database): one message, exit code 2. Training runs catch their own errors in <see cref="PlanRunner"/>;
    /// these reach here from <c>evaluate</c>, <c>sample</c>, <c>report</c> and planning.
    /// </summary>
    private static bool IsBadInput(Exception e) => e is BadInputException;

    private PluginCatalog Catalog(ParseResult r, bool reportFailures = true)
    {
        var catalog = PluginCatalog.Discover(r.GetValue(_plugins) ?? []);
        if (reportFailures)
            foreach (var f in catalog.Failures) stderr.WriteLine($"warning: plugin {f.Path} not loaded: {f.Reason}");
        return catalog;
    }

    // ---- helpers ----------------------------------------------------------------------------

    private static List<string> SplitList(string s) =>
        s.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();

    private static List<int> ParseSeeds(string s) => SplitList(s).Select(x =>
        int.TryParse(x, NumberStyles.Integer, CultureInfo.InvariantCulture, out var v) && v >= 0 ? v
            : throw new UsageException($"--seeds: '{x}' is not a non-negative integer")).ToList();

    /// <summary>auto → cuda when libtorch sees a GPU, else cpu; cuda without a GPU is an error.</summary>
    public static string ResolveDevice(string requested)
    {
        bool cuda = torch.cuda.is_available();
        return requested switch
        {
            "auto" => cuda ? "cuda" : "cpu",
            "cuda" when !cuda => throw new UsageException("--device cuda: no CUDA device visible to libtorch (this build uses the CPU libtorch unless built with -p:TorchBackend=cuda; see README)"),
            _ => requested,
        };
    }
}
