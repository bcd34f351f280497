using System.Runtime.CompilerServices;

namespace Crate.Results.Tests;

/// <summary>
/// Compares output with a committed file under <c>Golden/</c> in the source tree. With the environment
/// variable <c>UPDATE_GOLDEN=1</c> it rewrites the file instead (then review the diff with git).
/// </summary>
public static class Golden
{
    public static void AssertMatches(string name, string actual, [CallerFilePath] string callerFile = "")
    {
        var path = Path.Combine(Path.GetDirectoryName(callerFile)!, "Golden", name);
        if (Environment.GetEnvironmentVariable("UPDATE_GOLDEN") == "1")
        {
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, actual);
            return;
        }
        Assert.True(File.Exists(path), $"golden file {path} is missing; create it with UPDATE_GOLDEN=1 dotnet test tests/Crate.Results.Tests");
        var expected = File.ReadAllText(path);
        if (expected == actual)
            return;
        var actualPath = Path.Combine(Path.GetTempPath(), "golden-actual-" + name);
        File.WriteAllText(actualPath, actual);
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var line = 0;
        while (line < expectedLines.Length && line < actualLines.Length && expectedLines[line] == actualLines[line])
            line++;
        Assert.Fail($"""
            {name} differs from the golden file at line {line + 1}:
              expected: {(line < expectedLines.Length ? expectedLines[line] : "<end of file>")}
              actual:   {(line < actualLines.Length ? actualLines[line] : "<end of file>")}
            whole output: {actualPath}   (diff -u {path} {actualPath})
            if the change is intended: UPDATE_GOLDEN=1 dotnet test tests/Crate.Results.Tests --filter "FullyQualifiedName~Golden"
            """);
    }
}
