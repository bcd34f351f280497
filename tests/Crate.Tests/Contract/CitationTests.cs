using System.Text.RegularExpressions;
using Crate.Tests.Host;

namespace Crate.Tests.Contract;

/// <summary>
/// The repository stands alone: every document its sources and docs cite exists in it, and every section of
/// docs/paper.md they cite is a heading there. A citation is a <c>*.md</c> path in a comment of a C# file, or anywhere in
/// the text of a Markdown, project, script or deploy file; it exists when it names a file relative to the repository root or
/// to the citing file, a file at the end of a repository path, or (a bare name) any file of that name. Not citations:
/// web addresses, paths built from shell variables (outputs such as <c>$CRATE_RESULTS/merged/report.md</c>), and lines
/// naming files of another repository (<c>GitHub `owner/name`</c>, as docs/paper.md's table of sources does).
/// </summary>
public partial class CitationTests
{
    private static readonly string[] Scanned = [".cs", ".md", ".csproj", ".props", ".targets", ".py", ".sh", ".yaml", ".yml", ".sbatch"];
    private static readonly string[] Skipped = ["bin", "obj", ".git", "TestResults", "node_modules", "artifacts", "runs"];

    [Fact]
    public void Every_cited_document_exists_in_the_repository_and_every_cited_paper_section_is_a_heading()
    {
        var root = HostProcess.RepoRoot;
        var files = Files(root).Select(f => Path.GetRelativePath(root, f).Replace('\\', '/')).ToList();
        var known = files.ToHashSet(StringComparer.Ordinal);
        var names = files.Select(Path.GetFileName).ToHashSet(StringComparer.Ordinal);
        var sections = Heading().Matches(File.ReadAllText(Path.Combine(root, "docs", "paper.md"))).Select(m => m.Groups[1].Value).ToHashSet();
        Assert.Contains("3b", sections);
        var problems = new List<string>();
        foreach (var file in files.Where(f => Scanned.Contains(Path.GetExtension(f)) || Path.GetFileName(f) == "Dockerfile"))
        {
            var lines = File.ReadAllLines(Path.Combine(root, file));
            for (int i = 0; i < lines.Length; i++)
            {
                var text = Url().Replace(lines[i], "");
                if (file.EndsWith(".cs", StringComparison.Ordinal))
                    text = text.Contains("//", StringComparison.Ordinal) ? text[text.IndexOf("//", StringComparison.Ordinal)..] : "";
                if (text.Contains("GitHub `", StringComparison.Ordinal)) continue;
                foreach (Match m in MarkdownPath().Matches(text))
                {
                    var cited = m.Groups[1].Value;
                    if (m.Index > 0 && text[m.Index - 1] is '$' or '{' or '}') continue;
                    var beside = Path.GetRelativePath(root, Path.GetFullPath(Path.Combine(root, Path.GetDirectoryName(file) ?? "", cited))).Replace('\\', '/');
                    bool exists = known.Contains(cited) || known.Contains(beside) || files.Any(f => f.EndsWith("/" + cited, StringComparison.Ordinal))
                                  || (!cited.Contains('/') && names.Contains(cited));
                    if (!exists) problems.Add($"{file}:{i + 1}: cites {cited}, which is not in the repository");
                }
                foreach (Match m in PaperSection().Matches(text))
                    if (!sections.Contains(m.Groups[1].Value))
                        problems.Add($"{file}:{i + 1}: cites docs/paper.md §{m.Groups[1].Value}, which is not a heading of docs/paper.md");
            }
        }
        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void The_scan_finds_a_citation_of_a_file_outside_the_repository()
    {
        var m = MarkdownPath().Match("the segmentation notebooks of crate-paper.md §3b; see reference/torchsharp-notes.md §4");
        Assert.Equal("crate-paper.md", m.Groups[1].Value);
        Assert.Equal("reference/torchsharp-notes.md", m.NextMatch().Groups[1].Value);
        Assert.Equal("6.15", PaperSection().Match("(docs/paper.md §6.15)").Groups[1].Value);
    }

    private static IEnumerable<string> Files(string dir)
    {
        foreach (var f in Directory.EnumerateFiles(dir)) yield return f;
        foreach (var d in Directory.EnumerateDirectories(dir).Where(d => !Skipped.Contains(Path.GetFileName(d))))
            foreach (var f in Files(d)) yield return f;
    }

    [GeneratedRegex(@"(?<![\w/.\-])((?:[\w.\-]+/)*[\w\-]+\.md)\b")]
    private static partial Regex MarkdownPath();

    [GeneratedRegex(@"paper\.md,? §(\d+(?:\.\d+)?[a-z]?)")]
    private static partial Regex PaperSection();

    [GeneratedRegex(@"^#+ §(\S+)", RegexOptions.Multiline)]
    private static partial Regex Heading();

    [GeneratedRegex(@"https?://\S+")]
    private static partial Regex Url();
}
