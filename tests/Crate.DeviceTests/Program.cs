using System.Diagnostics;
using System.Globalization;
using System.Reflection;
using System.Text.Json;
using Crate.DeviceTests;
using Xunit.Abstractions;
using Xunit.Sdk;

// The published bundle's test runner (scripts/gpu-check), for a machine without dotnet: runs this assembly's xunit
// tests of one trait in-process, one at a time, in declaration order; [Fact] and [Theory] with data attributes
// ([InlineData], [MemberData]) and a constructor taking nothing or an ITestOutputHelper: the forms the tests here use.
// xunit.runner.utility (AssemblyRunner) is not served by the package feed. dotnet test never calls this entry point.
CultureInfo.DefaultThreadCurrentCulture = CultureInfo.InvariantCulture;
string trait = "Category=cuda", filter = "";
string? device = null, json = null;
bool list = false;
for (int i = 0; i < args.Length; i++)
{
    string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"{args[i]} needs a value");
    switch (args[i])
    {
        case "--trait": trait = Next(); break;
        case "--filter": filter = Next(); break;
        case "--device": device = Next(); break;
        case "--json": json = Next(); break;
        case "--list": list = true; break;
        case "-h" or "--help":
            Console.WriteLine("""
                usage: Crate.DeviceTests [--device cpu|cuda|cuda:N] [--trait Name=Value] [--filter TEXT] [--json FILE] [--list]
                  --device   sets CRATE_TEST_DEVICE for the tests (default: the variable's value, else cpu)
                  --trait    runs the tests with this trait (default Category=cuda)
                  --filter   only tests whose display name contains TEXT
                  --json     writes every result (name, outcome, seconds, message) to FILE
                exit code: 0 all passed, 1 a test failed, 2 bad usage or no test selected
                """);
            return 0;
        default: Console.Error.WriteLine($"error: unknown option {args[i]}"); return 2;
    }
}
if (device is not null) Environment.SetEnvironmentVariable(DeviceUnderTest.Variable, device);
var (traitName, traitValue) = trait.Split('=', 2) is [var n, var v] ? (n, v) : throw new ArgumentException("--trait needs Name=Value");

var cases = TestCases.Collect(typeof(DeviceTests).Assembly, traitName, traitValue)
    .Where(c => c.Name.Contains(filter, StringComparison.OrdinalIgnoreCase)).ToList();
if (cases.Count == 0) { Console.Error.WriteLine($"error: no test with trait {trait} matches '{filter}'"); return 2; }
if (list) { foreach (var c in cases) Console.WriteLine(c.Name); return 0; }

Console.WriteLine($"{cases.Count} tests with trait {trait} on {DeviceUnderTest.Name}");
var results = new List<TestResult>();
var all = Stopwatch.StartNew();
foreach (var c in cases)
{
    var sw = Stopwatch.StartNew();
    string? failure = c.Run();
    var result = new TestResult(c.Name, failure is null ? "passed" : "failed", sw.Elapsed.TotalSeconds, failure);
    results.Add(result);
    Console.WriteLine($"{(failure is null ? "PASS" : "FAIL")} {c.Name} ({result.Seconds:F1} s){(failure is null ? "" : $"\n     {failure.ReplaceLineEndings("\n     ")}")}");
}
int failed = results.Count(r => r.Outcome == "failed");
Console.WriteLine($"device tests on {DeviceUnderTest.Name}: {results.Count - failed} passed, {failed} failed, {all.Elapsed.TotalSeconds:F0} s");
if (json is not null)
    File.WriteAllText(json, JsonSerializer.Serialize(new { device = DeviceUnderTest.Name, trait, passed = results.Count - failed, failed, results },
        new JsonSerializerOptions { WriteIndented = true, PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower }));
return failed == 0 ? 0 : 1;

/// <summary>One test's outcome.</summary>
internal sealed record TestResult(string Name, string Outcome, double Seconds, string? Message);

/// <summary>One test case: a [Fact], or a [Theory] with one row of its data.</summary>
internal sealed record TestCase(string Name, Type Class, MethodInfo Method, object?[] Arguments)
{
    /// <summary>Runs the case in a fresh instance of its class; null when it passed, else the failure.</summary>
    public string? Run()
    {
        object? instance = null;
        try
        {
            var withOutput = Class.GetConstructor([typeof(ITestOutputHelper)]);
            instance = Method.IsStatic ? null : withOutput is not null ? withOutput.Invoke([new ConsoleOutput()]) : Activator.CreateInstance(Class);
            Method.Invoke(instance, Arguments);
            return null;
        }
        catch (TargetInvocationException e) when (e.InnerException is { } inner)
        {
            return $"{inner.GetType().Name}: {inner.Message}\n{Trim(inner.StackTrace)}";
        }
        catch (Exception e)
        {
            return $"{e.GetType().Name}: {e.Message}";
        }
        finally
        {
            (instance as IDisposable)?.Dispose();
        }
    }

    // The test's own frames, not the reflection and assertion plumbing.
    private static string Trim(string? stack) =>
        string.Join("\n", (stack ?? "").Split('\n').Where(l => l.Contains("Crate.", StringComparison.Ordinal)).Take(6).Select(l => l.Trim()));
}

/// <summary>Finds the test cases of an assembly that carry one trait (on the method or its class).</summary>
internal static class TestCases
{
    public static IEnumerable<TestCase> Collect(Assembly assembly, string traitName, string traitValue)
    {
        foreach (var type in assembly.GetTypes().Where(t => t.IsClass && t.IsPublic && !t.IsAbstract))
        {
            bool classHas = HasTrait(type.GetCustomAttributesData(), traitName, traitValue);
            foreach (var method in type.GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static | BindingFlags.DeclaredOnly)
                         .OrderBy(m => m.MetadataToken))
            {
                if (method.GetCustomAttribute<FactAttribute>() is not { } fact || fact.Skip is not null) continue;
                if (!classHas && !HasTrait(method.GetCustomAttributesData(), traitName, traitValue)) continue;
                string name = $"{type.Name}.{method.Name}";
                if (fact is not TheoryAttribute)
                {
                    yield return new TestCase(name, type, method, []);
                    continue;
                }
                var rows = method.GetCustomAttributes<DataAttribute>().SelectMany(d => d.GetData(method)).ToList();
                if (rows.Count == 0) throw new InvalidOperationException($"theory {name} has no data");
                foreach (var row in rows)
                    yield return new TestCase($"{name}({string.Join(", ", row.Select(a => a?.ToString() ?? "null"))})", type, method, row);
            }
        }
    }

    // xunit's TraitAttribute keeps no properties: read its constructor arguments.
    private static bool HasTrait(IEnumerable<CustomAttributeData> attributes, string name, string value) =>
        attributes.Any(a => a.AttributeType == typeof(TraitAttribute) && a.ConstructorArguments.Count == 2 &&
                            (string?)a.ConstructorArguments[0].Value == name && (string?)a.ConstructorArguments[1].Value == value);
}

/// <summary>ITestOutputHelper that writes to the console.</summary>
internal sealed class ConsoleOutput : ITestOutputHelper
{
    public void WriteLine(string message) => Console.WriteLine($"     {message}");

    public void WriteLine(string format, params object[] args) => WriteLine(string.Format(CultureInfo.InvariantCulture, format, args));
}
