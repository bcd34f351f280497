using ScottPlot;
using SkiaSharp;

namespace Crate.Results;

/// <summary>
/// Serves the DejaVu Sans subset embedded in this assembly (Fonts/, see LICENSE.txt there) to ScottPlot, so
/// plot text renders without any system font (a bare Debian image has none) and looks the same everywhere.
/// </summary>
internal sealed class EmbeddedFonts : IFontResolver
{
    /// <summary>The family name plots are drawn with.</summary>
    public const string Family = "DejaVu Sans";

    private static readonly byte[] Regular = Load("DejaVuSans.ttf");
    private static readonly byte[] Bold = Load("DejaVuSans-Bold.ttf");
    private static readonly Lock Gate = new();
    private static bool _registered;

    /// <summary>Puts this resolver first in ScottPlot's process-wide list (once).</summary>
    public static void Register()
    {
        lock (Gate)
        {
            if (_registered)
                return;
            Fonts.FontResolvers.Insert(0, new EmbeddedFonts());
            _registered = true;
        }
    }

    public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
        Create(fontName, (int)weight >= (int)FontWeight.SemiBold);

    public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => Create(fontName, bold);

    // A new typeface per call: ScottPlot owns and disposes what a resolver returns.
    private static SKTypeface? Create(string fontName, bool bold) =>
        fontName == Family ? SKTypeface.FromData(SKData.CreateCopy(bold ? Bold : Regular)) : null;

    private static byte[] Load(string file)
    {
        var name = $"Crate.Results.Fonts.{file}";
        using var stream = typeof(EmbeddedFonts).Assembly.GetManifestResourceStream(name)
                           ?? throw new InvalidOperationException($"embedded font {name} is missing from Crate.Results");
        using var copy = new MemoryStream();
        stream.CopyTo(copy);
        return copy.ToArray();
    }
}
