// Trains CRATE-GPT (or GPT-2) on the shipped Moby-Dick with the gpt2 task's `small` recipe through the real
// Trainer (Crate.Core.Training, run in a LocalRunContext) and prints, every N steps, the validation loss and per
// CRATE block: the zero fraction of its ISTA output, the mean cosine between the outputs of different tokens
// (1.00 = every token has the same representation), and ‖attention output‖ / ‖block input‖. This is the
// measurement behind "CRATE-GPT's unigram phase" in plugins/gpt2/README.md. Usage (key=value, all optional):
//   dotnet run -c Release --project tools/collapse -- model=crate steps=300 every=25 lr=1e-3 warmup=50 wd=0.1 threads=1 seed=0
//   (lambda=0.1: ISTA's λ; embscale=1: factor on the N(0, 0.02) initialisation of wte and wpe)
// The learning rate is constant after the linear warm-up; AdamW (0.9, 0.95), matrices decayed, gradient clip 1.0.
using System.Globalization;
using Crate.Core.Data.Text;
using Crate.Core.Modules;
using Crate.Core.Training;
using TorchSharp;
using static TorchSharp.torch;

var options = args.Select(a => a.Split('=', 2)).ToDictionary(p => p[0], p => p.Length > 1 ? p[1] : "");
double Option(string key, double fallback) =>
    options.TryGetValue(key, out var v) ? double.Parse(v, CultureInfo.InvariantCulture) : fallback;
string model = options.GetValueOrDefault("model", "crate");
int steps = (int)Option("steps", 300), every = (int)Option("every", 25), warmup = (int)Option("warmup", 50);
int batch = 16, context = 128, seed = (int)Option("seed", 0);
double lr = Option("lr", 1e-3), weightDecay = Option("wd", 0.1);
set_num_threads((int)Option("threads", 1));

string root = AppContext.BaseDirectory;
while (!Directory.Exists(Path.Combine(root, "data", "moby-dick"))) root = Path.GetDirectoryName(root) ?? throw new DirectoryNotFoundException("data/moby-dick not found above " + AppContext.BaseDirectory);
using var corpus = TextCorpus.Open(Path.Combine(root, "data", "moby-dick"), Gpt2Tokenizer.Shared, Path.Combine(Path.GetTempPath(), "crate-collapse-cache"));

manual_seed(seed);
var shape = new GptConfig(BlockSize: context, NLayer: 4, NHead: 4, NEmbd: 128, Lambda: Option("lambda", 0.1));
using nn.Module<Tensor, Tensor> net = model == "crate" ? new CrateGptModel(shape) : new Gpt2Model(shape);
if (net is CrateGptModel scaled && Option("embscale", 1) != 1)
    using (no_grad())
    {
        scaled.Transformer.wte.weight!.mul_(Option("embscale", 1));
        scaled.Transformer.wpe.weight!.mul_(Option("embscale", 1));
    }

var trainOptions = new TrainerOptions
{
    Optimizer = OptimizerKind.AdamW, LearningRate = lr, MinLearningRate = lr, WarmupSteps = warmup,   // min = peak: constant after warm-up
    WeightDecay = weightDecay, Beta1 = 0.9, Beta2 = 0.95, Eps = 1e-8, GradClip = 1.0,
    BatchSize = batch, MaxSteps = steps, EvalEverySteps = steps, KeepCheckpoints = 1,                // one checkpoint, at the end
};
var train = new RandomWindowBatches(corpus.Train, batch, context, TrainingSeeds.From(seed).DataOrder);
var probeWindows = new RandomWindowBatches(corpus.Val, batch, context, seed: 7);                   // 4 fixed validation batches
var spec = TrainingSpec.ForModel(net, train,
    loss: (b, _) => nn.functional.cross_entropy(net.forward(b.X).view(-1, shape.VocabSize), b.Y.view(-1)));   // [B·T, V] vs [B·T]
using var run = new LocalRunContext(seed: seed) { Task = "collapse", Model = model, KeepProgress = false };
var trainer = new Trainer<LmBatch>(spec, trainOptions, run);
trainer.StepCompleted += report =>
{
    if (report.Step == 1 || report.Step % every == 0)
        Console.WriteLine($"{report.Step,5} train {report.Loss:F3} {Probe(trainer.Device)}");
};
trainer.Run();

// Validation loss on 4 fixed batches, and the per-block collapse measures of CRATE on the first of them.
string Probe(Device device)
{
    using var scope = NewDisposeScope();
    using var noGrad = no_grad();
    net.eval();
    double valLoss = 0;
    Tensor first = empty(0);
    for (int i = 0; i < 4; i++)
    {
        var (x, y) = probeWindows.Get(new DataPosition(0, i), device);                  // [B, T], [B, T]
        if (i == 0) first = x;
        valLoss += nn.functional.cross_entropy(net.forward(x).view(-1, shape.VocabSize), y.view(-1)).item<float>() / 4;
    }
    var text = $"val {valLoss:F3}";
    if (net is CrateGptModel crate)
    {
        var z = crate.Embed(first);                                                     // [B, T, d]
        foreach (var (block, layer) in crate.Layers.Select((b, i) => (b, i + 1)))
        {
            var attention = block.attn.forward(block.prenorm_1.forward(z));             // [B, T, d]
            double ratio = attention.norm().item<float>() / z.norm().item<float>();
            z = block.forward(z);                                                       // [B, T, d], ISTA output
            double zeros = (z == 0).to_type(ScalarType.Float32).mean().item<float>();
            var unit = nn.functional.normalize(z.view(-1, shape.NEmbd), dim: 1);       // [B·T, d]
            var sample = unit[randperm(unit.shape[0], device: device)[..256]];          // [256, d]
            double cosine = sample.matmul(sample.t()).mean().item<float>();
            text += $" | L{layer} zero {zeros:F2} cos {cosine:F2} attn/x {ratio:F2}";
        }
    }
    net.train();
    return text;
}
