namespace SockOps.Emit.Testing;

/// <summary>
/// A snapshot check failed: the received text differs from <see cref="VerifiedPath"/>, or that file does not exist.
/// Test frameworks report it as a failure like any other exception. The received text is at <see cref="ReceivedPath"/>.
/// </summary>
public class SnapshotException : Exception
{
    /// <summary>Creates the exception with a message only (no paths).</summary>
    public SnapshotException()
        : this("The snapshot check failed.")
    {
    }

    /// <summary>Creates the exception with a message only (no paths).</summary>
    /// <param name="message">What failed.</param>
    public SnapshotException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates the exception with a message and a cause (no paths).</summary>
    /// <param name="message">What failed.</param>
    /// <param name="innerException">The cause.</param>
    public SnapshotException(string message, Exception? innerException)
        : base(message, innerException)
    {
        VerifiedPath = "";
        ReceivedPath = "";
    }

    /// <summary>Creates the exception for a snapshot pair.</summary>
    /// <param name="message">What failed, naming the files.</param>
    /// <param name="verifiedPath">The verified snapshot's path.</param>
    /// <param name="receivedPath">Where the received text was written.</param>
    public SnapshotException(string message, string verifiedPath, string receivedPath)
        : base(message)
    {
        VerifiedPath = verifiedPath;
        ReceivedPath = receivedPath;
    }

    /// <summary>The <c>.verified.txt</c> file the text was compared with.</summary>
    public string VerifiedPath { get; }

    /// <summary>The <c>.received.txt</c> file holding the text that was checked.</summary>
    public string ReceivedPath { get; }
}

/// <summary>The received text differs from the verified snapshot; <see cref="Diff"/> shows how, line by line.</summary>
public sealed class SnapshotMismatchException : SnapshotException
{
    /// <summary>Creates the exception with a message only.</summary>
    public SnapshotMismatchException()
        : this("The received text differs from the verified snapshot.")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What differs.</param>
    public SnapshotMismatchException(string message)
        : this(message, innerException: null)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What differs.</param>
    /// <param name="innerException">The cause.</param>
    public SnapshotMismatchException(string message, Exception? innerException)
        : base(message, innerException)
    {
        Diff = "";
    }

    /// <summary>Creates the exception for a snapshot pair and their diff.</summary>
    /// <param name="verifiedPath">The verified snapshot's path.</param>
    /// <param name="receivedPath">Where the received text was written.</param>
    /// <param name="diff">The line diff (<see cref="ProgramSnapshot.Diff"/>).</param>
    public SnapshotMismatchException(string verifiedPath, string receivedPath, string diff)
        : base($"Snapshot mismatch: {receivedPath} differs from {verifiedPath} ('-' verified, '+' received). " +
               $"Review it; to accept, copy it over the verified file or rerun outside CI with {ProgramSnapshot.AcceptVariable}=1.\n{diff}",
            verifiedPath, receivedPath)
    {
        Diff = diff;
    }

    /// <summary>Every line of both texts, prefixed <c>'-'</c> (only in the verified file), <c>'+'</c> (only received) or <c>' '</c>.</summary>
    public string Diff { get; }
}

/// <summary>There is no verified snapshot yet (a new test, or a file not committed); the received text was written for review.</summary>
public sealed class SnapshotMissingException : SnapshotException
{
    /// <summary>Creates the exception with a message only.</summary>
    public SnapshotMissingException()
        : this("The verified snapshot does not exist.")
    {
    }

    /// <summary>Creates the exception with a message only.</summary>
    /// <param name="message">What is missing.</param>
    public SnapshotMissingException(string message)
        : base(message)
    {
    }

    /// <summary>Creates the exception with a message and a cause.</summary>
    /// <param name="message">What is missing.</param>
    /// <param name="innerException">The cause.</param>
    public SnapshotMissingException(string message, Exception? innerException)
        : base(message, innerException)
    {
    }

    /// <summary>Creates the exception for a snapshot pair.</summary>
    /// <param name="verifiedPath">The verified snapshot's path, which does not exist.</param>
    /// <param name="receivedPath">Where the received text was written.</param>
    /// <param name="ci">True when running under CI, where a missing snapshot is never created.</param>
    public SnapshotMissingException(string verifiedPath, string receivedPath, bool ci)
        : base($"Snapshot {verifiedPath} does not exist. The received text is in {receivedPath}; review it and commit it as " +
               (ci ? "the verified file (CI never accepts a snapshot by itself)."
                   : $"the verified file, or rerun with {ProgramSnapshot.AcceptVariable}=1 to accept it."),
            verifiedPath, receivedPath)
    {
    }
}
