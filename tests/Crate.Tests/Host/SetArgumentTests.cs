using Crate.Host.Planning;
using Crate.Host.Plugins;

namespace Crate.Tests.Host;

/// <summary>The one parser of <c>--set</c>, used by reproduce, evaluate and sample.</summary>
public class SetArgumentTests
{
    [Fact]
    public void A_plain_set_applies_to_every_task_and_a_prefixed_one_to_its_task()
    {
        var plain = SetArgument.Parse("train.lr=1e-3");
        Assert.Equal((null, "train.lr", "1e-3"), (plain.Task, plain.Key, plain.Value));
        Assert.True(plain.AppliesTo("vit") && plain.AppliesTo("gpt2"));

        var scoped = SetArgument.Parse("vit: model.dim =384");
        Assert.Equal(("vit", "model.dim", "384"), (scoped.Task, scoped.Key, scoped.Value));
        Assert.True(scoped.AppliesTo("vit"));
        Assert.False(scoped.AppliesTo("gpt2"));
        Assert.Equal(KeyValuePair.Create("model.dim", "384"), scoped.Pair);

        Assert.Equal("a=b", SetArgument.Parse("data.path=a=b").Value);           // only the first '=' separates
    }

    [Theory]
    [InlineData("train.lr")]
    [InlineData("=3")]
    public void A_set_without_key_or_value_separator_names_the_argument(string raw)
    {
        var e = Assert.Throws<UsageException>(() => SetArgument.Parse(raw));
        Assert.Equal($"--set {raw}: expected key=value (or task:key=value)", e.Message);
    }
}
