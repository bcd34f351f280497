using System.Buffers.Binary;
using Crate.Core.Contract;
using Crate.Results;
using static Crate.Results.Tests.StoreFixtures;

namespace Crate.Results.Tests;

public class PlotTests
{
    [Fact]
    public void Training_curves_render_a_png_of_the_plot_size()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "plots", "vit-val_acc.png");
        IReadOnlyList<EpochRow> crate = Enumerable.Range(1, 8).Select(Epoch).ToList();
        IReadOnlyList<EpochRow> vit = Enumerable.Range(1, 8).Select(e => Epoch(e) with { Metrics = new Dictionary<string, double> { ["val_acc"] = 9 + e * 0.4 } }).ToList();

        Assert.True(PlotWriter.TrainingCurves(path, [("crate seed 1", crate), ("vit seed 1", vit)], "val_acc"));

        Assert.Equal((PlotWriter.Width, PlotWriter.Height), PngSize(path));
        Assert.False(PlotWriter.TrainingCurves(Path.Combine(folder.Path, "none.png"), [("crate", crate)], "missing"));
        Assert.False(File.Exists(Path.Combine(folder.Path, "none.png")));
    }

    [Fact]
    public void White_box_layers_render_one_panel_per_measure()
    {
        using var folder = new TempFolder();
        var path = Path.Combine(folder.Path, "whitebox.png");
        var rows = Enumerable.Range(0, 6).SelectMany(layer => new[]
        {
            new WhiteBoxRow(layer, "Rc", "val", 40 - 3.0 * layer, 1.5, 256),
            new WhiteBoxRow(layer, "nonzero", "val", 0.6 - 0.05 * layer, 0.02, 256),
            new WhiteBoxRow(layer, "zero_fraction", "val", 0.4 + 0.05 * layer, 0.02, 256),   // 1 − non-zero: no panel of its own
            new WhiteBoxRow(layer, "Rc", "train", 41 - 3.2 * layer, 1.2, 256),
        }).ToList();

        Assert.True(PlotWriter.WhiteBoxLayers(path, rows));

        Assert.Equal((2 * PlotWriter.PanelWidth, PlotWriter.PanelHeight), PngSize(path));
        Assert.False(PlotWriter.WhiteBoxLayers(Path.Combine(folder.Path, "empty.png"), Array.Empty<WhiteBoxRow>()));

        var compared = Path.Combine(folder.Path, "compared.png");
        IReadOnlyList<WhiteBoxRow> baseline = rows.Select(r => r with { Mean = r.Mean * 1.1 }).ToList();
        Assert.True(PlotWriter.WhiteBoxLayersCompared(compared, [("crate", rows), ("vit", baseline)]));
        Assert.Equal((2 * PlotWriter.PanelWidth, PlotWriter.PanelHeight), PngSize(compared));
    }

    [Fact]
    public void Layer_ticks_are_whole_layers_at_most_twelve()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6], PlotWriter.LayerTicks([3, 1, 2, 6, 5, 4, 1]));
        Assert.Equal([1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23], PlotWriter.LayerTicks(Enumerable.Range(1, 24)));
        Assert.Empty(PlotWriter.LayerTicks([]));
    }

    [Fact]
    public void Plot_text_is_drawn_with_the_embedded_font()
    {
        // Two plots that differ only in their metric name (title and axis label): identical PNGs would mean no text
        // was drawn, as happens with ScottPlot's system fonts on a machine without fonts.
        using var folder = new TempFolder();
        IReadOnlyList<EpochRow> rows = Enumerable.Range(1, 5)
            .Select(e => new EpochRow(e, e, new Dictionary<string, double> { ["alpha"] = e, ["omega"] = e })).ToList();
        var a = Path.Combine(folder.Path, "a.png");
        var b = Path.Combine(folder.Path, "b.png");

        Assert.True(PlotWriter.TrainingCurves(a, [("run", rows)], "alpha"));
        Assert.True(PlotWriter.TrainingCurves(b, [("run", rows)], "omega"));

        Assert.NotEqual(File.ReadAllBytes(a), File.ReadAllBytes(b));
        Assert.Contains(ScottPlot.Fonts.FontResolvers, r => r.GetType().Name == "EmbeddedFonts");
    }

    /// <summary>Width and height from the PNG signature and IHDR chunk.</summary>
    private static (int, int) PngSize(string path)
    {
        var bytes = File.ReadAllBytes(path);
        Assert.Equal([0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A], bytes[..8]);
        Assert.Equal("IHDR", System.Text.Encoding.ASCII.GetString(bytes, 12, 4));
        return (BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(16)), BinaryPrimitives.ReadInt32BigEndian(bytes.AsSpan(20)));
    }
}
