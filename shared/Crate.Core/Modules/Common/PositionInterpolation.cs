using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// A learned position table at another patch grid, as DINO's <c>interpolate_pos_encoding</c> does it
/// (docs/paper.md §3b "Other resolutions"): the [CLS] row is kept, the √N×√N patch rows are resized
/// bicubically (align_corners off) with the scale factor (g + 0.1)/√N per axis, the +0.1 guarding the
/// output size against floating-point rounding. Differentiable, so a model trained on several crop sizes
/// (DINO's 2 global and N local crops) trains one table. One difference from DINO: for a non-square grid
/// the height goes to the rows and the width to the columns (DINO passes them the other way round, which
/// only matters for non-square inputs).
/// </summary>
public static class PositionInterpolation
{
    /// <summary>
    /// The table <paramref name="table"/> [1, N+1, d] (N a square number) for a <paramref name="gridHeight"/> ×
    /// <paramref name="gridWidth"/> grid of patches: [1, gridHeight·gridWidth + 1, d]. The same tensor when the
    /// grid is the table's own.
    /// </summary>
    public static Tensor Resize(Tensor table, long gridHeight, long gridWidth)
    {
        if (table.dim() != 3 || table.shape[0] != 1)
            throw new ArgumentException($"a position table is [1, N+1, d], not [{string.Join(", ", table.shape)}]", nameof(table));
        long n = table.shape[1] - 1, d = table.shape[2];
        long side = (long)Math.Round(Math.Sqrt(n));
        if (side * side != n)
            throw new ArgumentException($"the position table has {n} patch rows, not a square grid", nameof(table));
        if (gridHeight < 1 || gridWidth < 1)
            throw new ArgumentException($"the patch grid must be at least 1x1, not {gridHeight}x{gridWidth}");
        if (gridHeight == side && gridWidth == side) return table;

        using var scope = NewDisposeScope();
        var cls = table.narrow(1, 0, 1);                                                    // [1, 1, d]
        var grid = table.narrow(1, 1, n).reshape(1, side, side, d).permute(0, 3, 1, 2);     // [1, d, √N, √N]
        var resized = nn.functional.interpolate(grid,
            scale_factor: [(gridHeight + 0.1) / side, (gridWidth + 0.1) / side],
            mode: InterpolationMode.Bicubic, align_corners: false);                         // [1, d, gh, gw]
        if (resized.shape[2] != gridHeight || resized.shape[3] != gridWidth)
            throw new InvalidOperationException($"bicubic resize gave a {resized.shape[2]}x{resized.shape[3]} grid, not {gridHeight}x{gridWidth}");
        var rows = resized.permute(0, 2, 3, 1).reshape(1, gridHeight * gridWidth, d);       // [1, gh·gw, d]
        return cat([cls, rows], 1).MoveToOuterDisposeScope();                               // [1, gh·gw + 1, d]
    }
}
