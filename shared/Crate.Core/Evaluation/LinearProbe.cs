using Crate.Core.Training;

namespace Crate.Core.Evaluation;

/// <summary>
/// Settings of <see cref="LinearProbe"/>. <see cref="L2Grid"/> null means <see cref="LinearProbe.DefaultGrid"/>;
/// a grid of one value skips the validation split. The validation split holds
/// <see cref="ValidationFraction"/> of every class of the training set (seeded by <see cref="SplitSeed"/>).
/// </summary>
public sealed record LinearProbeOptions(
    IReadOnlyList<double>? L2Grid = null,
    double ValidationFraction = 0.2,
    long SplitSeed = 0,
    double GradientTolerance = 1e-6,
    int MaxIterations = 1000);

/// <summary>Validation accuracy (%) of one L2 strength of the grid, and whether its fit converged.</summary>
public sealed record L2Candidate(double L2, double ValidationTop1, bool Converged);

/// <summary>
/// Outcome of <see cref="LinearProbe.Run"/>: test top-1 accuracy in %, the chosen strength, its
/// validation accuracy (NaN when the grid had one value and no split was made), the grid, and the final
/// model fitted on all training features (with its convergence flag and iteration count).
/// </summary>
public sealed record LinearProbeResult(double TestTop1, double L2, double ValidationTop1,
    IReadOnlyList<L2Candidate> Grid, SoftmaxRegression Model)
{
    /// <summary>Whether the final fit and every grid fit converged.</summary>
    public bool Converged => Model.Converged && Grid.All(g => g.Converged);
}

/// <summary>
/// Linear probe on frozen features: the L2 strength λ of a <see cref="SoftmaxRegression"/> is chosen on a
/// held-out part of the TRAINING set only (stratified, seeded: per class, a seeded shuffle and the first
/// ⌊fraction · n_c⌋ samples go to validation), the highest validation accuracy winning and ties going to
/// the larger λ; then the model is refitted on all training features with that λ and scored on the test
/// set. The test set is used for nothing but the final score. Grid fits run from the largest λ down,
/// each warm-started from the previous solution.
/// </summary>
public static class LinearProbe
{
    /// <summary>The default λ grid: 10⁻⁶, 10⁻⁵, …, 10⁰ (seven values, one per decade).</summary>
    public static IReadOnlyList<double> DefaultGrid { get; } = [1e-6, 1e-5, 1e-4, 1e-3, 1e-2, 1e-1, 1e0];

    /// <summary>Chooses λ on a split of <paramref name="train"/>, refits on all of it and scores <paramref name="test"/>.</summary>
    public static LinearProbeResult Run(FeatureSet train, FeatureSet test, LinearProbeOptions? options = null)
    {
        options ??= new LinearProbeOptions();
        if (train.Dim != test.Dim || train.NumClasses != test.NumClasses)
            throw new ArgumentException(
                $"linear probe: {train.Name} is D = {train.Dim}, {train.NumClasses} classes but {test.Name} is D = {test.Dim}, {test.NumClasses} classes");
        var grid = (options.L2Grid ?? DefaultGrid).OrderByDescending(v => v).ToList();
        if (grid.Count == 0)
            throw new ArgumentException("linear probe: the L2 grid is empty");
        var solver = new LbfgsOptions(options.GradientTolerance, options.MaxIterations);

        var candidates = new List<L2Candidate>();
        double chosen = grid[0], validationTop1 = double.NaN;
        SoftmaxRegression? previous = null;
        if (grid.Count > 1)
        {
            var (fitRows, valRows) = StratifiedSplit(train.LabelArray(), train.NumClasses, options.ValidationFraction, options.SplitSeed);
            if (fitRows.Count == 0 || valRows.Count == 0)
                throw new ArgumentException(
                    $"linear probe: {train.Name} ({train.Count} samples) is too small for a {options.ValidationFraction:P0} validation split");
            using var fit = train.Subset(fitRows, $"{train.Name} (fit part)");
            using var val = train.Subset(valRows, $"{train.Name} (validation part)");
            foreach (double l2 in grid)
            {
                previous = SoftmaxRegression.Fit(fit, l2, solver, previous);
                double acc = previous.Accuracy(val);
                candidates.Add(new L2Candidate(l2, acc, previous.Converged));
                if (double.IsNaN(validationTop1) || acc > validationTop1)
                    (chosen, validationTop1) = (l2, acc);
            }
        }
        var model = SoftmaxRegression.Fit(train, chosen, solver, previous);
        return new LinearProbeResult(model.Accuracy(test), chosen, validationTop1, candidates, model);
    }

    /// <summary>
    /// Deterministic stratified split of sample indices: for each class, its indices (ascending) are
    /// shuffled by Fisher–Yates with a <see cref="DeterministicRng"/> seeded from (seed, class), and the
    /// first ⌊fraction · n_c⌋ go to the validation part. Both parts are returned in ascending order.
    /// </summary>
    public static (IReadOnlyList<long> Fit, IReadOnlyList<long> Validation) StratifiedSplit(
        long[] labels, int numClasses, double fraction, long seed)
    {
        if (!(fraction > 0 && fraction < 1))
            throw new ArgumentOutOfRangeException(nameof(fraction), fraction, "the validation fraction must lie in (0, 1)");
        var fitRows = new List<long>();
        var valRows = new List<long>();
        for (int c = 0; c < numClasses; c++)
        {
            var members = Enumerable.Range(0, labels.Length).Where(i => labels[i] == c).Select(i => (long)i).ToArray();
            var rng = new DeterministicRng(SeedMath.Derive(seed, $"linear-probe-split-{c}"));
            for (int i = members.Length - 1; i > 0; i--)
            {
                int j = (int)(rng.NextUInt64() % (ulong)(i + 1));
                (members[i], members[j]) = (members[j], members[i]);
            }
            int nVal = (int)Math.Floor(fraction * members.Length);
            valRows.AddRange(members.Take(nVal));
            fitRows.AddRange(members.Skip(nVal));
        }
        fitRows.Sort();
        valRows.Sort();
        return (fitRows, valRows);
    }
}
