using System.Globalization;
using Crate.Core.Contract;
using Crate.Results;

namespace Crate.Results.Tests;

/// <summary>
/// Entry point when the test assembly is run as a child process (<c>dotnet Crate.Results.Tests.dll write-epochs
/// OUT RUNKEY FIRST COUNT</c>): it stores epochs FIRST..FIRST+COUNT-1 of RUNKEY one call at a time and prints
/// <c>wrote N</c> after each call returns, so the parent knows which rows were reported durable.
/// The test runner never calls it.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 5 || args[0] != "write-epochs")
        {
            Console.Error.WriteLine("usage: write-epochs OUT RUNKEY FIRST COUNT");
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
}
