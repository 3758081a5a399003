using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// Loopback TCP traffic for kernel tests. sock_ops programs run for sockets whose creating process is in
/// the attached cgroup, and cgroup v2 moves whole processes, so the client side runs in a separate
/// process (bash with /dev/tcp) that the test can place into a cgroup before it connects.
/// </summary>
public static class LoopbackTcp
{
    /// <summary>A listener on 127.0.0.1 (ephemeral port) that accepts connections, reads each to EOF, then closes it.</summary>
    public sealed class DrainingServer : IDisposable
    {
        private readonly Socket _listener;
        private readonly Task _acceptLoop;
        private readonly CancellationTokenSource _stop = new();
        private int _completed;

        /// <summary>Creates the listener (in the calling process's cgroup) and starts accepting.</summary>
        public DrainingServer()
        {
            _listener = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(512);
            _acceptLoop = Task.Run(AcceptLoop);
        }

        /// <summary>The listening port.</summary>
        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        /// <summary>Connections accepted, drained to EOF and closed so far.</summary>
        public int Completed => Volatile.Read(ref _completed);

        /// <summary>Waits until <paramref name="count"/> connections were fully served.</summary>
        public bool WaitForCompleted(int count, TimeSpan timeout)
        {
            var watch = Stopwatch.StartNew();
            while (Completed < count)
            {
                if (watch.Elapsed > timeout) return false;
                Thread.Sleep(5);
            }
            return true;
        }

        private async Task AcceptLoop()
        {
            var buffer = new byte[4096];
            while (!_stop.IsCancellationRequested)
            {
                Socket connection;
                try
                {
                    connection = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
                }
                catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }
                using (connection)
                {
                    // Close only after the client's FIN: the client then always goes FIN_WAIT1 → FIN_WAIT2 → CLOSE.
                    while (await connection.ReceiveAsync(buffer, SocketFlags.None).ConfigureAwait(false) > 0)
                    {
                    }
                }
                Interlocked.Increment(ref _completed);
            }
        }

        /// <inheritdoc />
        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            try
            {
                _acceptLoop.Wait(TimeSpan.FromSeconds(5));
            }
            catch (AggregateException)
            {
            }
            _stop.Dispose();
        }
    }

    /// <summary>
    /// Starts a bash client that waits for a "go" line on stdin, then opens and closes
    /// <paramref name="connections"/> sequential TCP connections to 127.0.0.1:<paramref name="port"/>.
    /// <paramref name="place"/> receives the child's pid before "go" (e.g. to move it into a cgroup).
    /// </summary>
    /// <returns>The client's exit code (0 when every connect succeeded).</returns>
    public static int RunClientProcess(int port, int connections, Action<int> place, TimeSpan timeout)
    {
        ArgumentNullException.ThrowIfNull(place);
        string script = string.Create(CultureInfo.InvariantCulture,
            $"read -r go || exit 3; for ((i = 0; i < {connections}; i++)); do exec 3<>/dev/tcp/127.0.0.1/{port} || exit 2; exec 3>&-; done; echo done");
        var start = new ProcessStartInfo("/bin/bash", ["-c", script])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        using var process = Process.Start(start) ?? throw new InvalidOperationException("could not start /bin/bash");
        try
        {
            place(process.Id);
            process.StandardInput.WriteLine("go");
            process.StandardInput.Close();
            if (!process.WaitForExit(timeout)) throw new TimeoutException($"the client did not finish {connections} connections in {timeout}");
            string stderr = process.StandardError.ReadToEnd();
            if (process.ExitCode != 0) throw new InvalidOperationException($"client exited with {process.ExitCode}: {stderr}");
            return process.ExitCode;
        }
        finally
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
        }
    }
}
