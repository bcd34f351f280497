using Crate.Core.Data;
using Crate.Core.Data.Text;

namespace Crate.Plugins.Bert;

/// <summary>One labelled passage: BERT input ids ([CLS] ... [SEP]), the label, and where it comes from.</summary>
/// <param name="Ids">At most <see cref="SotuPartyTask.MaxTokens"/> ids, [CLS] first and [SEP] last.</param>
/// <param name="Label"><see cref="SotuPartyTask.DemocraticLabel"/> or <see cref="SotuPartyTask.RepublicanLabel"/>.</param>
/// <param name="AddressId">The address (document) id.</param>
/// <param name="President">The speaker.</param>
public sealed record PartyPassage(int[] Ids, int Label, string AddressId, string President);

/// <summary>
/// Which party's president gave a State of the Union address, Democratic or Republican, split <b>by
/// president</b> so no speaker is on both sides. Rule, per party separately: its presidents are ordered by
/// the year of their first address (or shuffled by <see cref="DataRng"/>(seed) when a seed is given), then
/// walked in that order; a president goes to test when adding all his addresses brings the party's test
/// share of addresses seen so far closer to <c>testFraction</c> than leaving him out does. On the shipped
/// corpus (182 addresses: 90 Democratic, 92 Republican) with 0.2 this gives 36 test addresses (19.8%):
/// Van Buren, Wilson, Carter and Biden (17 of 90), Hayes, Taft, Hoover, Ford and Trump (19 of 92).
/// The test addresses must stay out of MLM pre-training: pass <see cref="ReservedDocumentIds"/> to
/// <see cref="MlmCorpus.Build"/> as its exclusion.
/// </summary>
public sealed class SotuPartySplit
{
    private SotuPartySplit(SotuAddress[] train, SotuAddress[] test)
    {
        Train = train;
        Test = test;
        TrainPresidents = train.Select(a => a.President).Distinct().ToArray();
        TestPresidents = test.Select(a => a.President).Distinct().ToArray();
        ReservedDocumentIds = test.Select(a => a.Id).ToHashSet(StringComparer.Ordinal);
    }

    /// <summary>Training addresses, in corpus order.</summary>
    public IReadOnlyList<SotuAddress> Train { get; }

    /// <summary>Test addresses, in corpus order.</summary>
    public IReadOnlyList<SotuAddress> Test { get; }

    /// <summary>Presidents of the training addresses, in order of first appearance.</summary>
    public IReadOnlyList<string> TrainPresidents { get; }

    /// <summary>Presidents of the test addresses, in order of first appearance.</summary>
    public IReadOnlyList<string> TestPresidents { get; }

    /// <summary>Document ids of the test addresses: leave them out of pre-training.</summary>
    public IReadOnlySet<string> ReservedDocumentIds { get; }

    /// <summary>Splits the Democratic and Republican addresses of <paramref name="addresses"/> (others are dropped).</summary>
    public static SotuPartySplit Create(IReadOnlyList<SotuAddress> addresses, double testFraction = 0.2, ulong? seed = null)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(testFraction);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(testFraction, 1.0);
        var testPresidents = new HashSet<string>(StringComparer.Ordinal);
        int partyIndex = 0;
        foreach (string party in new[] { SotuCorpus.Democratic, SotuCorpus.Republican })
        {
            var byPresident = addresses.Where(a => a.Party == party).GroupBy(a => a.President)
                .OrderBy(g => g.Min(a => a.Year)).ThenBy(g => g.Key, StringComparer.Ordinal).ToArray();
            if (seed is ulong s) new DataRng(DataRng.Derive(s, partyIndex)).Shuffle(byPresident.AsSpan());
            partyIndex++;
            int seen = 0, test = 0;
            foreach (var president in byPresident)
            {
                int n = president.Count();
                seen += n;
                if (Math.Abs((double)(test + n) / seen - testFraction) < Math.Abs((double)test / seen - testFraction))
                {
                    test += n;
                    testPresidents.Add(president.Key);
                }
            }
        }
        var labelled = addresses.Where(a => SotuPartyTask.LabelOf(a) is not null).ToArray();
        return new SotuPartySplit(labelled.Where(a => !testPresidents.Contains(a.President)).ToArray(),
            labelled.Where(a => testPresidents.Contains(a.President)).ToArray());
    }
}

/// <summary>
/// The downstream task's passages: each Democratic or Republican address is packed on its own by
/// <see cref="SequencePacker"/> into passages of at most <see cref="MaxTokens"/> ids ([CLS] consecutive
/// sentences [SEP]); every passage carries its address's label.
/// </summary>
public static class SotuPartyTask
{
    /// <summary>The longest passage, [CLS] and [SEP] included.</summary>
    public const int MaxTokens = 128;

    /// <summary>The label of a Democratic president's passage.</summary>
    public const int DemocraticLabel = 0;

    /// <summary>The label of a Republican president's passage.</summary>
    public const int RepublicanLabel = 1;

    /// <summary>The class names by label.</summary>
    public static readonly IReadOnlyList<string> ClassNames = [SotuCorpus.Democratic, SotuCorpus.Republican];

    /// <summary>The label of <paramref name="address"/>, or null for a party outside the task.</summary>
    public static int? LabelOf(SotuAddress address) => address.Party switch
    {
        SotuCorpus.Democratic => DemocraticLabel,
        SotuCorpus.Republican => RepublicanLabel,
        _ => null,
    };

    /// <summary>The passages of <paramref name="addresses"/> (addresses of other parties are skipped), in address order.</summary>
    public static IReadOnlyList<PartyPassage> Passages(IReadOnlyList<SotuAddress> addresses, BertWordPieceTokenizer tokenizer, int maxTokens = MaxTokens)
    {
        var labelled = addresses.Where(a => LabelOf(a) is not null).ToArray();
        var packed = new List<int[]>[labelled.Length];
        Parallel.For(0, labelled.Length, i => packed[i] = SequencePacker.Pack(SotuCorpus.ReadDocument(labelled[i]).Text, tokenizer, maxTokens));
        return labelled.SelectMany((a, i) => packed[i].Select(ids => new PartyPassage(ids, LabelOf(a)!.Value, a.Id, a.President))).ToArray();
    }
}
