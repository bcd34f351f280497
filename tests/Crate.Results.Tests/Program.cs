using System.Globalization;
using Crate.Core.Contract;
using Crate.Results;

namespace Crate.Results.Tests;

/// <summary>
/// Entry point when the test assembly is run as a child process (<c>dotnet Crate.Results.Tests.dll write-epochs
/// OUT RUNKEY FIRST COUNT</c>): it stores epochs FIRST..FIRST+COUNT-1 of RUNKEY one call at a time and prints
/// <c>wrote N</c> after each call returns, so the parent knows which rows were reported durable.
/// <c>take-lease FOLDER START HOLD_MS</c> waits until the UTC time START (ticks), tries to take the lease of FOLDER once,
/// prints <c>won GENERATION</c> (then holds it HOLD_MS and releases it) or <c>busy PID</c>.
/// The test runner never calls it.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length == 4 && args[0] == "take-lease") return TakeLease(args[1], long.Parse(args[2], CultureInfo.InvariantCulture), int.Parse(args[3], CultureInfo.InvariantCulture));
        if (args.Length != 5 || args[0] != "write-epochs")
        {
            Console.Error.WriteLine("usage: write-epochs OUT RUNKEY FIRST COUNT | take-lease FOLDER START HOLD_MS");
            return 2;
        }
        var first = int.Parse(args[3], CultureInfo.InvariantCulture);
        var count = int.Parse(args[4], CultureInfo.InvariantCulture);
        using var store = ResultsStore.Open(args[1]);
        Console.Out.Flush();
        for (var epoch = first; epoch < first + count; epoch++)
        {
            store.AddEpoch(args[2], StoreFixtures.Epoch(epoch));
            Console.WriteLine($"wrote {epoch}");
            Console.Out.Flush();
        }
        return 0;
    }

    private static int TakeLease(string folder, long startTicks, int holdMs)
    {
        while (DateTime.UtcNow.Ticks < startTicks) Thread.Sleep(1);
        using var lease = Crate.Core.Runtime.FileLease.TryAcquire(folder, new("race", TimeSpan.FromMinutes(1)), out var busy, out _);
        Console.WriteLine(lease is null ? $"busy {busy?.Record?.Pid}" : $"won {lease.Generation}");
        Console.Out.Flush();
        if (lease is not null) Thread.Sleep(holdMs);
        return 0;
    }
}
