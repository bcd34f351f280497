namespace Crate.Core.Contract;

/// <summary>
/// The root of every error caused by what a user gave (command-line arguments, config keys, data files,
/// checkpoints, a results database) rather than by a bug. The host prints its message as one line and exits
/// with code 2; a run that fails with one is recorded with the message as its cause. A plugin's own
/// bad-input errors derive from one of the subclasses: <see cref="ConfigException"/> (config keys and values),
/// <see cref="Data.DatasetException"/> (data files and folders) or <see cref="CheckpointException"/>
/// (checkpoint files). Messages name the key, file or argument at fault and say what is wrong.
/// </summary>
public abstract class BadInputException : Exception
{
    /// <summary>Creates the exception with its one-line message.</summary>
    protected BadInputException(string message, Exception? inner = null) : base(message, inner) { }
}

/// <summary>
/// A checkpoint or state_dict file that cannot be used: unreadable, of an unknown format, or not matching the
/// model it is loaded into. The message starts with the file.
/// </summary>
public abstract class CheckpointException : BadInputException
{
    /// <summary>Creates the exception with its message.</summary>
    protected CheckpointException(string message, Exception? inner = null) : base(message, inner) { }
}
