// Data pipeline measurements (see data/README.md for the numbers and how they were taken).
//   loader [DATA_DIR] [BATCH] [BATCHES]   Fashion-MNIST loader throughput (plain and augmented pipelines)
//   folder ROOT [SIZE] [BATCH] [WORKERS]  ImageFolder decode + RandomResizedCrop throughput
//   text SOURCE                           GPT-2 token counts, split and unigram entropies of a text corpus
//   sotu-vocab [OUT] [SIZE]               writes OUT/vocab.txt.gz: bert-base-uncased pruned to SIZE tokens by SOTU's use (data/sotu-vocab)
using System.Diagnostics;
using Crate.Core.Data.Images;
using Crate.Core.Data.Images.Transforms;
using Crate.Core.Data.Text;
using Crate.Plugins.Bert;

string repo = FindRepo();
switch (args.FirstOrDefault() ?? "loader")
{
    case "loader":
    {
        string dir = args.Length > 1 ? args[1] : Path.Combine(repo, "data", "fashion-mnist");
        int batch = args.Length > 2 ? int.Parse(args[2]) : 128;
        int batches = args.Length > 3 ? int.Parse(args[3]) : 470;
        var train = IdxDatasets.LoadFashionMnist(dir, train: true);
        var pipelines = new (string, ImagePipeline)[]
        {
            ("plain 1ch", ImagePipeline.Plain(ImageStats.FashionMnist, 1)),
            ("crop+flip 1ch", ImagePipeline.ForTraining(28, ImageStats.FashionMnist, 1)),
            ("crop+flip 3ch", ImagePipeline.ForTraining(28, ImageStats.FashionMnist, 3)),
        };
        foreach (var (name, pipeline) in pipelines)
            Measure($"fashion-mnist {name}", new ImageBatchLoader(train, pipeline, new ImageLoaderOptions { BatchSize = batch, Seed = 1 }), batches);
        break;
    }
    case "folder":
    {
        var ds = ImageFolderDataset.Open(args[1], 3, ImageFolderCheck.Header);
        int size = args.Length > 2 ? int.Parse(args[2]) : 224;
        int batch = args.Length > 3 ? int.Parse(args[3]) : 32;
        int workers = args.Length > 4 ? int.Parse(args[4]) : 1;
        var pipeline = ImagePipeline.ForTraining(size, ImageStats.ImageNet, 3);
        Measure($"imagefolder {ds.Count} files, {size}px, {workers} worker(s)",
            new ImageBatchLoader(ds, pipeline, new ImageLoaderOptions { BatchSize = batch, Seed = 1, Workers = workers, DropLast = true }), int.MaxValue);
        break;
    }
    case "text":
    {
        string source = args.Length > 1 ? args[1] : Path.Combine(repo, "data", "moby-dick", "mobydick.txt.gz");
        string cache = Path.Combine(Path.GetTempPath(), "crate-databench-" + Guid.NewGuid().ToString("N"));
        var tok = Gpt2Tokenizer.Shared;
        var clock = Stopwatch.StartNew();
        using (var corpus = TextCorpus.Open(source, tok, cache))
        {
            Console.WriteLine($"prepared in {clock.Elapsed.TotalSeconds:F2} s: {corpus.Directory}");
            Console.WriteLine($"train tokens {corpus.Train.Length}, val tokens {corpus.Val.Length}, total {corpus.Train.Length + corpus.Val.Length}");
            Console.WriteLine($"split: {corpus.Info!.Split}");
            string text = TextSource.ReadText(TextSource.ListFiles(source)[0]);
            Console.WriteLine($"source chars {text.Length}, whole-text tokens {tok.Encode(text).Length}");
            Console.WriteLine($"val starts: {tok.Decode(corpus.Val.ReadAll().Take(12).Select(i => (int)i)).Replace("\n", "\\n")}");
            Console.WriteLine($"unigram entropy train {TokenStatistics.UnigramEntropy(corpus.Train):F6} nats/token, val {TokenStatistics.UnigramEntropy(corpus.Val):F6}");
        }
        Directory.Delete(cache, recursive: true);
        break;
    }
    case "sotu-vocab":
    {
        string outDir = args.Length > 1 ? args[1] : Path.Combine(repo, "data", "sotu-vocab");
        int size = args.Length > 2 ? int.Parse(args[2]) : SotuVocabulary.Size;
        var bert = BertWordPieceTokenizer.Load(Path.Combine(repo, "data", "bert-vocab", BertWordPieceTokenizer.ShippedVocabFileName));
        var clock = Stopwatch.StartNew();
        var tokens = SotuVocabulary.Build(bert, SotuCorpus.Load(Path.Combine(repo, "data", "sotu")), size);
        string file = Path.Combine(outDir, BertWordPieceTokenizer.ShippedVocabFileName);
        WordPieceVocabulary.Write(tokens, file);
        Console.WriteLine($"{tokens.Count} tokens in {clock.Elapsed.TotalSeconds:F1} s -> {file}");
        break;
    }
    default:
        Console.Error.WriteLine("usage: loader [DIR] [BATCH] [BATCHES] | folder ROOT [SIZE] [BATCH] [WORKERS] | text [SOURCE] | sotu-vocab [OUT] [SIZE]");
        return 2;
}
return 0;

static void Measure(string name, ImageBatchLoader loader, int maxBatches)
{
    // A warm-up epoch (JIT), then timed epochs in which the consumer does nothing but take batches.
    foreach (var _ in loader.ReadEpoch()) { }
    var clock = Stopwatch.StartNew();
    int batches = 0, samples = 0;
    while (batches < maxBatches)
    {
        int before = batches;
        foreach (var batch in loader.ReadEpoch())
        {
            batches++;
            samples += batch.Count;
            if (batches >= maxBatches) break;
        }
        if (maxBatches == int.MaxValue && batches > before) break;   // folder: one timed epoch
    }
    double seconds = clock.Elapsed.TotalSeconds;
    Console.WriteLine($"{name}: {batches} batches of {loader.Options.BatchSize} in {seconds:F2} s = {batches / seconds:F1} batches/s, {samples / seconds:F0} images/s, {1000 * seconds / batches:F1} ms/batch");
}

static string FindRepo()
{
    for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        if (File.Exists(Path.Combine(dir.FullName, "Crate.sln"))) return dir.FullName;
    return Directory.GetCurrentDirectory();
}
