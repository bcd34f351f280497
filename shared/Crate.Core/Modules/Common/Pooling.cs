namespace Crate.Core.Modules;

/// <summary>How a classifier pools its token sequence before the head.</summary>
public enum Pooling
{
    /// <summary>Token 0 ([CLS]), the reference default.</summary>
    Cls,
    /// <summary>Mean over all tokens, [CLS] included (the reference's <c>pool='mean'</c>).</summary>
    Mean,
}
