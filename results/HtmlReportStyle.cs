namespace Crate.Results;

/// <summary>
/// The HTML report's style sheet: system fonts, a reading width that suits a laptop screen (tables scroll sideways
/// inside their box instead of widening the page), figures in a grid of two or three, and print rules (each task on
/// a new page, landscape A4 so that the comparison tables keep their width, figures and tables not split across pages, no
/// navigation).
/// </summary>
internal static class HtmlReportStyle
{
    public const string Css = """
        :root { --ink: #1d2430; --muted: #5b6575; --line: #d9dee7; --band: #f4f6fa; --accent: #2457a6; --good: #1d7a46; --bad: #b3261e; --warn: #946200; }
        * { box-sizing: border-box; }
        html { -webkit-text-size-adjust: 100%; }
        body { margin: 0; color: var(--ink); background: #fff; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, "DejaVu Sans", sans-serif; }
        header.page, main, footer { max-width: 1280px; margin: 0 auto; padding: 0 24px; }
        header.page { padding-top: 28px; padding-bottom: 8px; border-bottom: 1px solid var(--line); }
        h1 { font-size: 1.65rem; margin: 0 0 4px; }
        h2 { font-size: 1.35rem; margin: 36px 0 8px; padding-bottom: 4px; border-bottom: 2px solid var(--ink); }
        h3 { font-size: 1.08rem; margin: 26px 0 6px; }
        h4 { font-size: .98rem; margin: 18px 0 4px; }
        code { font: .92em/1.3 ui-monospace, "SFMono-Regular", "DejaVu Sans Mono", Menlo, monospace; }
        a { color: var(--accent); text-decoration: none; }
        a:hover { text-decoration: underline; }
        .meta, .caption, .lede, .runs, figcaption, .unit, .n { color: var(--muted); }
        .meta { margin: 2px 0; font-size: .9rem; }
        nav.toc { margin: 10px 0 4px; font-size: .92rem; }
        nav.toc a { display: inline-block; margin: 2px 10px 2px 0; }
        .lede { font-size: .9rem; max-width: 80ch; margin: 4px 0 10px; }
        .caption { margin: 2px 0 6px; font-size: .9rem; }
        .caption strong { color: var(--ink); font-weight: 600; }
        .runs { font-size: .86rem; margin: 6px 0 0; }
        .runs a { margin-right: 6px; }
        .scroll { overflow-x: auto; border: 1px solid var(--line); border-radius: 6px; }
        table { border-collapse: collapse; width: 100%; font-size: .88rem; font-variant-numeric: tabular-nums; }
        th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; vertical-align: top; }
        thead th { background: var(--band); font-weight: 600; white-space: nowrap; position: sticky; top: 0; }
        tbody tr:last-child > * { border-bottom: 0; }
        tbody tr:nth-child(even) { background: #fafbfd; }
        th.name { font-weight: 500; white-space: nowrap; }
        td.num, th.num { text-align: right; white-space: nowrap; }
        td.none { color: var(--muted); }
        td.excludes-zero { font-weight: 700; }
        td.ref, th.ref { text-align: center; color: var(--muted); font-size: .8rem; }
        ol.notes { margin: 6px 0 0; padding-left: 22px; font-size: .8rem; color: var(--muted); }
        ol.notes li { margin: 2px 0; max-width: 110ch; }
        .unit, .n { font-size: .8em; }
        .figures { display: grid; grid-template-columns: repeat(auto-fill, minmax(440px, 1fr)); gap: 14px; margin: 8px 0; }
        .figures.wide { grid-template-columns: 1fr; }
        .gallery { display: grid; grid-template-columns: repeat(auto-fill, minmax(300px, 1fr)); gap: 12px; margin: 8px 0; }
        figure { margin: 0; border: 1px solid var(--line); border-radius: 6px; padding: 8px; background: #fff; }
        figure img { display: block; width: 100%; height: auto; }
        .gallery img { image-rendering: pixelated; }
        figcaption { font-size: .82rem; margin-top: 4px; }
        .missing { color: var(--bad); font-size: .85rem; }
        .pivots { display: grid; grid-template-columns: repeat(auto-fill, minmax(560px, 1fr)); gap: 12px; }
        .pivots h4 { margin-top: 4px; }
        .status { display: inline-block; padding: 0 7px; border-radius: 10px; font-size: .8rem; font-weight: 600; color: #fff; background: var(--muted); }
        .status.finished { background: var(--good); }
        .status.failed { background: var(--bad); }
        .status.running, .status.interrupted { background: var(--warn); }
        section.run { border: 1px solid var(--line); border-radius: 6px; padding: 4px 16px 12px; margin: 14px 0; scroll-margin-top: 12px; }
        section.run:target { border-color: var(--accent); box-shadow: 0 0 0 2px #2457a633; }
        section.run h3 { margin-top: 10px; }
        dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 6px 0; font-size: .88rem; }
        dl.facts dt { color: var(--muted); }
        dl.facts dd { margin: 0; overflow-wrap: anywhere; }
        .metrics { display: grid; grid-template-columns: repeat(auto-fill, minmax(250px, 1fr)); column-gap: 22px; font-size: .86rem; margin: 6px 0; padding: 0; list-style: none; }
        .metrics li { display: flex; justify-content: space-between; gap: 10px; border-bottom: 1px dotted var(--line); }
        .metrics li span:last-child { font-variant-numeric: tabular-nums; }
        .error { color: var(--bad); white-space: pre-wrap; font-size: .85rem; }
        details { margin: 6px 0; }
        details summary { cursor: pointer; color: var(--accent); font-size: .88rem; }
        pre { background: var(--band); border-radius: 6px; padding: 10px; overflow-x: auto; font-size: .8rem; margin: 6px 0; }
        footer { color: var(--muted); font-size: .82rem; padding-top: 24px; padding-bottom: 32px; }
        @page { size: A4 landscape; margin: 10mm; }
        @media print {
          body { font-size: 10pt; }
          header.page, main, footer { max-width: none; padding: 0; }
          nav.toc { display: none; }
          section.task + section.task, #runs { break-before: page; }
          h2, h3, h4 { break-after: avoid; }
          figure, .scroll, .pivots > div, dl.facts, .metrics { break-inside: avoid; }
          .scroll { overflow: visible; border: 0; }
          thead th { position: static; }
          table { font-size: 8pt; }
          thead th, td.num, th.num, th.name { white-space: normal; }
          ol.notes { font-size: 7.5pt; }
          .figures { grid-template-columns: 1fr 1fr; }
          .figures.wide { grid-template-columns: 1fr; }
          .gallery { grid-template-columns: 1fr 1fr 1fr; }
          a { color: inherit; }
          section.run:target { box-shadow: none; }
          details:not([open]) { display: none; }
        }
        """;
}
