using Crate.Core.Contract;
using Crate.Core.Data.Text;
using Crate.Core.Interop;
using Crate.Core.Modules;
using Crate.Core.Training;
using Microsoft.Extensions.Logging;
using TorchSharp;
using static TorchSharp.torch;

namespace Crate.Plugins.Gpt2;

/// <summary>
/// Generating text from a loaded model (<see cref="Gpt2Checkpoints.Load"/>), as nanoGPT's <c>sample.py</c>: the context is
/// cropped to the last <c>block_size</c> tokens, the last position's logits are divided by the temperature,
/// optionally cut to the top k, and a token is drawn from the softmax with a seeded generator. Only GPT-2's
/// 50,257 real ids can be drawn (the rows padding the vocabulary to 50,304 are cut off first).
/// </summary>
public static class Gpt2Sampler
{
    /// <summary>
    /// Generates <paramref name="newTokens"/> ids after <paramref name="context"/> (which must not be empty);
    /// returns only the new ids, each below <see cref="Gpt2Tokenizer.VocabularySize"/>. Deterministic for a
    /// seed on a given device.
    /// </summary>
    public static int[] Generate(nn.Module<Tensor, Tensor> model, int blockSize, IReadOnlyList<int> context, int newTokens,
        double temperature, int? topK, int seed, Device device, CancellationToken cancellation = default)
    {
        if (context.Count == 0) throw new ArgumentException("the context needs at least one token", nameof(context));
        if (!(temperature > 0)) throw new ArgumentOutOfRangeException(nameof(temperature), temperature, "must be > 0");
        const int real = Gpt2Tokenizer.VocabularySize;
        var ids = context.Select(i => (long)i).ToList();
        using var generator = new Generator((ulong)seed, device);
        using var noGrad = no_grad();
        using var evalMode = EvalMode.Of(model);
        for (int n = 0; n < newTokens; n++)
        {
            cancellation.ThrowIfCancellationRequested();
            using var scope = NewDisposeScope();
            int start = Math.Max(0, ids.Count - blockSize);                              // crop to block_size
            var x = tensor(ids.GetRange(start, ids.Count - start).ToArray(), [1, ids.Count - start]).to(device);   // [1, t]
            var logits = model.forward(x)[0, -1].narrow(0, 0, real) / temperature;       // [V] → [50257]
            if (topK is int k && k < real)
            {
                var (top, _) = logits.topk(k);                                           // [k], descending
                logits = logits.masked_fill(logits.lt(top[k - 1]), double.NegativeInfinity);
            }
            var probs = nn.functional.softmax(logits, 0);                                // [50257]
            ids.Add(multinomial(probs, 1, generator: generator).item<long>());
        }
        return ids.Skip(context.Count).Select(i => (int)i).ToArray();
    }

    /// <summary>
    /// The prompt and its continuation as text. An empty prompt starts from <c>&lt;|endoftext|&gt;</c> (a document
    /// boundary), which is not printed.
    /// </summary>
    public static string Complete(nn.Module<Tensor, Tensor> model, int blockSize, SamplingOptions options, Device device,
        CancellationToken cancellation = default)
    {
        var tokenizer = Gpt2Tokenizer.Shared;
        int[] prompt = tokenizer.Encode(options.Prompt);
        int[] context = prompt.Length > 0 ? prompt : [Gpt2Tokenizer.EndOfText];
        int[] generated = Generate(model, blockSize, context, options.Tokens, options.Temperature, options.TopK, options.Seed, device, cancellation);
        return options.Prompt + tokenizer.Decode(generated);
    }
}
