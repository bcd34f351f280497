using static TorchSharp.torch;

namespace Crate.Core.Modules;

/// <summary>
/// The fixed 2-D sine-cosine position table of MAE and CRATE-MAE (<c>util/pos_embed.py</c>,
/// docs/paper.md §3c): for a g×g grid in raster order, the first d/2 channels encode the column index and
/// the last d/2 the row index (the reference's meshgrid puts the width coordinate first); within each half,
/// frequencies ω_i = 1/10000^(2i/(d/2)) for i &lt; d/4, sines of pos·ω first, then cosines. With
/// <c>cls</c> a zero row for [CLS] comes first.
/// </summary>
public static class SinCosPositions
{
    /// <summary>The table [1, (cls ? 1 : 0) + g², d] as float32 (computed in float64). d must be a multiple of 4.</summary>
    public static Tensor Table2D(int dim, int grid, bool cls = true)
    {
        if (dim % 4 != 0)
            throw new ArgumentException($"the 2-D sine-cosine table needs a width divisible by 4, got {dim}", nameof(dim));
        int offset = cls ? 1 : 0, half = dim / 2, quarter = dim / 4;
        var values = new double[(offset + grid * grid) * dim];
        for (int row = 0; row < grid; row++)
            for (int col = 0; col < grid; col++)
            {
                int token = offset + row * grid + col;
                Fill(values, token * dim, col);              // first half: the column (width) coordinate
                Fill(values, token * dim + half, row);       // second half: the row coordinate
            }
        return tensor(values, [1, offset + grid * grid, dim]).to(ScalarType.Float32);

        void Fill(double[] target, int start, int position)
        {
            for (int i = 0; i < quarter; i++)
            {
                double omega = 1.0 / Math.Pow(10000.0, i / (double)quarter);
                target[start + i] = Math.Sin(position * omega);
                target[start + quarter + i] = Math.Cos(position * omega);
            }
        }
    }
}
