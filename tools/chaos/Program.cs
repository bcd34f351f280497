// The chaos test of README.md "Reliability": a smoke `reproduce` of two tasks, then a `merge` of its database, each
// killed (its whole process group, SIGKILL) at random moments and at named fault points (checkpoint writes, checkpoint
// rotation, results-database writes, a merge transaction; Crate.Core.Runtime.FaultPoints), restarted after each kill
// until it finishes; then the results databases are compared with one uninterrupted run of the same plan. Prints one line:
//   chaos: K kills survived, R runs lost, X rows lost, D rows duplicated (...)
// and exits 1 when anything was lost, duplicated, differs or was left under a temporary name.
//
//   dotnet run -c Release --project tools/chaos -- --kills 50 [--seed 7] [--tasks vit,mae] [--work DIR] [--keep]
//
// Needs the built host (dotnet build -c Release; --host PATH for another crate.dll) and Linux (setsid, kill).
using System.Globalization;
using Crate.Chaos;

var options = ChaosOptions.Parse(args);
if (!File.Exists(options.Host))
{
    Console.Error.WriteLine($"chaos: no host at {options.Host}; build it first (dotnet build -c Release) or pass --host PATH/crate.dll");
    return 2;
}
var random = new Random(options.Seed);
var work = options.Work ?? Path.Combine(Path.GetTempPath(), $"crate-chaos-{options.Seed}-{Guid.NewGuid():N}"[..40]);
Directory.CreateDirectory(work);
Console.WriteLine($"chaos: seed {options.Seed}, {options.Kills} kill(s), tasks {string.Join(",", options.Tasks)}, in {work}");

var workload = new Workload(options, work);
var clock = System.Diagnostics.Stopwatch.StartNew();
var reference = Path.Combine(work, "reference");
var plain = workload.RunToEnd(workload.Reproduce(reference, jobs: null), "reference");
Console.WriteLine($"chaos: uninterrupted reference run in {plain.TotalSeconds:0.0} s");

var totals = new Tally();
int kills = 0, pointKills = 0, rounds = 0;
while (kills < options.Kills)
{
    rounds++;
    var round = Path.Combine(work, $"round-{rounds:D3}");
    // The reproduce takes two to four kills, the merge one, until the budget is spent.
    int reproduceKills = Math.Min(options.Kills - kills, random.Next(2, 5));
    var (k, p) = workload.Survive(jobs => workload.Reproduce(Path.Combine(round, "run"), jobs), reproduceKills, plain, random,
        ["checkpoint", "checkpoint-rotate", "db-write"], maxHits: 6);
    kills += k; pointKills += p;
    int mergeKills = Math.Min(options.Kills - kills, 1);
    (k, p) = workload.Survive(_ => workload.Merge(Path.Combine(round, "merged"), Path.Combine(round, "run")), mergeKills,
        TimeSpan.FromSeconds(3), random, ["merge"], maxHits: 4);
    kills += k; pointKills += p;
    foreach (var folder in new[] { "run", "merged" })
    {
        var tally = Compare.Databases(reference, Path.Combine(round, folder), $"round {rounds} {folder}");
        tally.TemporaryFiles += Compare.Leftovers(Path.Combine(round, folder));
        totals.Add(tally);
    }
}
var line = string.Create(CultureInfo.InvariantCulture,
    $"chaos: {kills} kills survived, {totals.RunsLost} runs lost, {totals.RowsLost} rows lost, {totals.RowsDuplicated} rows duplicated " +
    $"({totals.ValuesDiffering} values differ from the uninterrupted run, {totals.TemporaryFiles} temporary or partial files left, " +
    $"{workload.FailedAttempts} failed attempts; seed {options.Seed}, {rounds} rounds, {pointKills} kills at fault points, {clock.Elapsed.TotalSeconds:0} s)");
Console.WriteLine(line);
bool clean = totals.Clean && workload.FailedAttempts == 0;
if (clean && !options.Keep) Directory.Delete(work, recursive: true);
else if (!clean) Console.WriteLine($"chaos: kept {work} for a look");
return clean ? 0 : 1;
