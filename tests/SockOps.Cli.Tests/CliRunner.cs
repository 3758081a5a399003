using System.Text;
using SockOps.Cli;

namespace SockOps.Cli.Tests;

/// <summary>Runs the sockops host in-process with captured stdin/stdout/stderr.</summary>
internal sealed record CliRun(int ExitCode, string Out, byte[] OutBytes, string Error)
{
    public static CliRun Invoke(string[] args, string stdinText = "", byte[]? stdinBytes = null)
    {
        var output = new StringWriter { NewLine = "\n" };
        var error = new StringWriter { NewLine = "\n" };
        var binaryOut = new MemoryStream();
        var console = new CliConsole(
            new StringReader(stdinText),
            () => new MemoryStream(stdinBytes ?? Encoding.UTF8.GetBytes(stdinText)),
            output,
            () => new NonClosingStream(binaryOut),
            error);
        int code = CliApp.Run(args, console);
        return new CliRun(code, output.ToString(), binaryOut.ToArray(), error.ToString());
    }

    private sealed class NonClosingStream(Stream inner) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => inner.Length;
        public override long Position { get => inner.Position; set => throw new NotSupportedException(); }
        public override void Flush() => inner.Flush();
        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);
    }
}
