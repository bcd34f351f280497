using Crate.Core.Contract;

namespace Crate.Tests.Contract;

public class ConfigSchemaTests
{
    private static readonly ConfigKey<long> Depth = Key.Int("model.depth", 6, "layers", min: 1, max: 48);
    private static readonly ConfigKey<double> Lr = Key.Float("train.lr", 1e-3, "peak learning rate", min: 0);
    private static readonly ConfigKey<bool> Flip = Key.Bool("data.flip", true, "horizontal flips");
    private static readonly ConfigKey<string> Opt = Key.Choice("train.optimizer", "adamw", "optimizer", "adamw", "lion");
    private static readonly ConfigSchema Schema = new([Depth, Lr, Flip, Opt]);

    private static KeyValuePair<string, string>[] Set(params (string K, string V)[] kv) =>
        kv.Select(x => KeyValuePair.Create(x.K, x.V)).ToArray();

    [Fact]
    public void DefaultsThenLayersInOrder()
    {
        var cfg = Schema.Resolve(Set(("model.depth", "12")), Set(("model.depth", "3"), ("train.lr", "2.4e-4"), ("train.optimizer", "lion")));
        Assert.Equal(3L, cfg.Get(Depth));
        Assert.Equal(3, cfg.GetInt(Depth));
        Assert.Equal(2.4e-4, cfg.Get(Lr));
        Assert.True(cfg.Get(Flip));
        Assert.Equal("lion", cfg.Get(Opt));
    }

    [Fact]
    public void UnknownKeySuggestsNearestNames()
    {
        var e = Assert.Throws<ConfigException>(() => Schema.Resolve(Set(("model.dept", "3"))));
        Assert.Contains("unknown config key 'model.dept'", e.Message);
        Assert.Contains("model.depth", e.Message);
    }

    [Theory]
    [InlineData("model.depth", "three", "an integer in [1, 48]")]
    [InlineData("model.depth", "0", "out of range")]
    [InlineData("model.depth", "2.5", "an integer")]
    [InlineData("train.lr", "-1", ">= 0")]
    [InlineData("train.lr", "NaN", "a number")]
    [InlineData("data.flip", "maybe", "true or false")]
    [InlineData("train.optimizer", "sgd", "one of adamw, lion")]
    public void BadValuesNameTheKeyAndTheAllowedValues(string key, string value, string allowed)
    {
        var e = Assert.Throws<ConfigException>(() => Schema.Resolve(Set((key, value))));
        Assert.Contains($"'{key}'", e.Message);
        Assert.Contains(allowed, e.Message);
    }

    [Fact]
    public void JsonIsCanonicalAndRoundTrips()
    {
        var a = Schema.Resolve(Set(("train.lr", "0.0005"), ("model.depth", "4")));
        var b = Schema.Resolve(Set(("model.depth", "4")), Set(("train.lr", "5e-4")));
        Assert.Equal(a.ToJson(), b.ToJson());
        Assert.Equal("{\"data.flip\":true,\"model.depth\":4,\"train.lr\":0.0005,\"train.optimizer\":\"adamw\"}", a.ToJson());
        Assert.Equal(a.ToJson(), ResolvedConfig.FromJson(Schema, a.ToJson()).ToJson());
    }

    [Fact]
    public void WithChangesAndValidates()
    {
        var cfg = Schema.Resolve().With(("model.depth", "2"));
        Assert.Equal(2L, cfg.Get(Depth));
        Assert.Throws<ConfigException>(() => cfg.With(("model.depth", "99")));
    }

    [Fact]
    public void DuplicateKeysAreRejected() =>
        Assert.Throws<ArgumentException>(() => new ConfigSchema([Depth, Key.Int("model.depth", 1, "again")]));

    [Fact]
    public void WithDefaultIsTheSameKeyStartingElsewhere()
    {
        var shared = Key.Int("model.patch_size", 4, "patch side", 1, 4096).OmittedAtDefault();
        var own = shared.WithDefault(7);
        Assert.Equal((shared.Name, shared.Type, shared.Min, shared.Max, shared.Description, true), (own.Name, own.Type, own.Min, own.Max, own.Description, own.OmitAtDefault));
        Assert.Equal((4L, 7L), ((long)shared.Default, (long)own.Default));
        Assert.Equal("patch side P", shared.WithDefault(16, "patch side P").Description);
        Assert.Throws<ConfigException>(() => shared.WithDefault(0));            // the bounds still hold

        var config = new ConfigSchema([own]).Resolve();
        Assert.Equal(7L, config.Get(shared));                                   // read by name through either instance
        Assert.Equal("{}", config.ToJson());                                    // at its own default: left out
    }
}
