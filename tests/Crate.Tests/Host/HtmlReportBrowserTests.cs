using System.Buffers.Binary;
using System.Text.Json;
using System.Text.RegularExpressions;
using Crate.Results;

namespace Crate.Tests.Host;

/// <summary>
/// <c>report --format html</c> on the database of real smoke runs (vit: attention maps; mae: reconstructions, encoder and
/// decoder white-box rows), opened in headless Chromium: the page lays out, every figure decodes, nothing is logged as an
/// error, it screenshots and prints to PDF. The check reads the DOM through a copy of the page with a small probe script
/// added (the report itself has no script): it records errors from the first moment and, once loaded, writes the page
/// height and every image's decoded size into the DOM, which <c>--dump-dom</c> returns.
/// </summary>
[Collection("host processes")]
public class HtmlReportBrowserTests
{
    private const string Probe = """
        <script>
        window.__errors = [];
        window.addEventListener('error', e => window.__errors.push(e.message || ('failed to load ' + ((e.target && (e.target.src || e.target.href)) || '?').slice(0, 60))), true);
        const consoleError = console.error;
        console.error = (...a) => { window.__errors.push(a.join(' ')); consoleError.apply(console, a); };
        window.addEventListener('load', () => {
          const out = document.createElement('pre');
          out.id = 'render-check';
          out.textContent = JSON.stringify({
            height: document.documentElement.scrollHeight,
            width: document.documentElement.scrollWidth,
            images: Array.from(document.images).map(i => ({ alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight })),
            sections: Array.from(document.querySelectorAll('section.task')).map(s => s.id),
            runs: document.querySelectorAll('section.run').length,
            errors: window.__errors,
          });
          document.body.appendChild(out);
        });
        </script>
        """;

    [Fact]
    public void The_report_renders_in_chromium_with_every_figure_decoded_and_no_error()
    {
        var browser = Chromium.Find()
            ?? throw new InvalidOperationException("no headless Chromium on the PATH: install it with `bash scripts/setup.sh chromium` " +
                                                   "(what .ci/run does) or point CRATE_CHROMIUM at one");
        var outDir = HostProcess.TempDir("html-report");
        var run = HostProcess.Run(["reproduce", "vit", "mae", "--preset", "smoke", "--seeds", "0,1", "--out", outDir], TimeSpan.FromMinutes(8));
        Assert.True(run.ExitCode == 0, run.ToString());
        var report = HostProcess.Run(["report", "--format", "html", "--out", outDir]);
        Assert.True(report.ExitCode == 0, report.ToString());
        var page = Path.Combine(outDir, "report.html");
        Assert.Contains($"Wrote {page}", report.Stdout);
        var html = File.ReadAllText(page);
        int imgTags = Regex.Matches(html, "<img ").Count;
        using (var store = ResultsStore.Open(outDir))
        {
            var records = store.Runs();
            int artifacts = records.Sum(r => r.Artifacts.Count(a => a.RelativePath.EndsWith(".png", StringComparison.Ordinal)));
            Assert.True(artifacts >= 8, $"expected attention maps and reconstructions, found {artifacts} PNG artifacts");
            Assert.True(imgTags > artifacts, $"{imgTags} images for {artifacts} artifacts: the figures are missing");
            Assert.Contains(records, r => store.WhiteBox(r.Id).Any(w => w.Split == "test-decoder"));
        }

        var probed = Path.Combine(outDir, "report-probe.html");
        File.WriteAllText(probed, html.Replace("<head>\n", "<head>\n" + Probe, StringComparison.Ordinal));
        var dom = Chromium.Run(browser, new Uri(probed).AbsoluteUri, "--window-size=1366,900", "--dump-dom");
        Assert.True(dom.ExitCode == 0, dom.ToString());
        var json = Regex.Match(dom.Stdout, "<pre id=\"render-check\">(.*?)</pre>", RegexOptions.Singleline);
        Assert.True(json.Success, "the probe wrote nothing: the page did not finish loading\n" + dom);
        using var check = JsonDocument.Parse(System.Net.WebUtility.HtmlDecode(json.Groups[1].Value));
        var root = check.RootElement;
        Assert.Empty(root.GetProperty("errors").EnumerateArray().Select(e => e.GetString()));
        Assert.DoesNotContain("Uncaught", dom.Stderr);
        Assert.True(root.GetProperty("height").GetInt32() > 5000, $"page height {root.GetProperty("height")}: it did not lay out");
        Assert.True(root.GetProperty("width").GetInt32() <= 1366, $"page width {root.GetProperty("width")}: wider than the window");
        var images = root.GetProperty("images").EnumerateArray().ToList();
        Assert.Equal(imgTags, images.Count);
        Assert.All(images, i => Assert.True(i.GetProperty("complete").GetBoolean() && i.GetProperty("width").GetInt32() > 0 && i.GetProperty("height").GetInt32() > 0,
            $"image not decoded: {i}"));
        Assert.Equal([HtmlReportWriter.TaskAnchor("mae"), HtmlReportWriter.TaskAnchor("vit")],
            root.GetProperty("sections").EnumerateArray().Select(s => s.GetString()));
        Assert.Equal(8, root.GetProperty("runs").GetInt32());

        var screenshot = Path.Combine(outDir, "report.png");
        var shot = Chromium.Run(browser, new Uri(page).AbsoluteUri, "--window-size=1366,900", $"--screenshot={screenshot}");
        Assert.True(shot.ExitCode == 0 && File.Exists(screenshot), shot.ToString());
        var png = File.ReadAllBytes(screenshot);
        Assert.Equal((1366, 900), (BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(png.AsSpan(20))));
        Assert.True(png.Length > 30_000, $"a {png.Length}-byte screenshot is an empty page");

        var pdf = Path.Combine(outDir, "report.pdf");
        var print = Chromium.Run(browser, new Uri(page).AbsoluteUri, "--no-pdf-header-footer", $"--print-to-pdf={pdf}");
        Assert.True(print.ExitCode == 0 && File.Exists(pdf), print.ToString());
        int pages = Regex.Matches(File.ReadAllText(pdf, System.Text.Encoding.Latin1), @"/Type\s*/Page[^s]").Count;
        Assert.True(pages >= 3, $"{pages} PDF page(s): each task starts a page when printed");
    }
}
