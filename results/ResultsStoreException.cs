namespace Crate.Results;

/// <summary>A results database or its input is unusable; the message names the file and the cause.</summary>
public sealed class ResultsStoreException : Crate.Core.Contract.BadInputException
{
    /// <summary>Creates the exception with its message.</summary>
    public ResultsStoreException(string message) : base(message) { }

    /// <summary>Creates the exception with its message and the error that caused it.</summary>
    public ResultsStoreException(string message, Exception inner) : base(message, inner) { }
}
