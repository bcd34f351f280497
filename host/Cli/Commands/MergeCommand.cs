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

/// <summary>merge: fold the databases of shards into the --out database.</summary>
public sealed partial class CliApp
{
    private Command MergeCommand()
    {
        var sources = new Argument<string[]>("sources") { Description = "Results folders (or results.db files) of shards", Arity = ArgumentArity.OneOrMore };
        var cmd = new Command("merge", "Fold shard databases into the --out database") { sources };
        cmd.SetAction(r =>
        {
            using var store = ResultsStore.Open(Path.GetFullPath(r.GetValue(_out)!));
            foreach (var s in r.GetValue(sources)!)
            {
                var db = Directory.Exists(s) ? Path.Combine(s, "results.db") : s;
                if (!File.Exists(db)) throw new UsageException($"merge: no results database at {db}");
                stdout.WriteLine($"{db}: {store.MergeFrom(db)} run(s) merged");
            }
            return ExitCodes.Ok;
        });
        return cmd;
    }
}
