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
        var cmd = new Command("merge", "Fold shard databases into the --out database; an unreadable shard is named and skipped (exit 1)") { sources };
        cmd.SetAction(r =>
        {
            using var store = ResultsStore.Open(Path.GetFullPath(r.GetValue(_out)!));
            var skipped = 0;
            foreach (var s in r.GetValue(sources)!)
            {
                var db = Path.GetFullPath(Directory.Exists(s) ? Path.Combine(s, ResultsStore.FileName) : s);
                try
                {
                    stdout.WriteLine($"{db}: {store.MergeFrom(db)} run(s) merged");
                }
                catch (ResultsStoreException e)
                {
                    // One bad shard (never written, cut off, corrupt) must not hide the others: name it, merge the rest.
                    stderr.WriteLine($"error: skipped {db}: {e.Message}");
                    skipped++;
                }
            }
            if (skipped > 0) stderr.WriteLine($"{skipped} shard database(s) skipped; the others were merged into {store.DatabasePath}");
            return skipped == 0 ? ExitCodes.Ok : ExitCodes.RunsFailed;
        });
        return cmd;
    }
}
