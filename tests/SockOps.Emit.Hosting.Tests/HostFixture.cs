using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Hosting.Tests;

/// <summary>Builds real generic hosts (Host.CreateApplicationBuilder) with AddSockOps and captures their logs.</summary>
internal static class TestHost
{
    public static IHost Build(Action<SockOpsOptions>? configure, IDictionary<string, string?>? configuration = null, LogSink? logs = null,
        Action<IServiceCollection>? services = null)
    {
        var builder = Host.CreateApplicationBuilder(new HostApplicationBuilderSettings { Args = [], EnvironmentName = "Test" });
        if (configuration is not null) builder.Configuration.AddInMemoryCollection(configuration);
        builder.Logging.ClearProviders();
        if (logs is not null) builder.Logging.AddProvider(logs);
        builder.Services.AddSockOps(configure);
        builder.Services.AddHealthChecks().AddSockOps();
        services?.Invoke(builder.Services);
        return builder.Build();
    }

    /// <summary>2 × min(size, net.core.wmem_max): what getsockopt(SO_SNDBUF) reads after bpf_setsockopt(SO_SNDBUF, size).</summary>
    public static int ExpectedSndBuf(int size) =>
        2 * Math.Min(size, int.Parse(File.ReadAllText("/proc/sys/net/core/wmem_max").Trim(), CultureInfo.InvariantCulture));

    /// <summary>A fresh directory under the bpffs mount for one test's pins (removed by the test).</summary>
    public static string NewPinDirectory() => Path.Combine(BpfFs.EnsureMounted(), "sockops-emit-hosting-test-" + Guid.NewGuid().ToString("N")[..12]);

    public static void RemovePins(string directory)
    {
        if (Directory.Exists(directory)) Directory.Delete(directory, recursive: true);
    }
}

/// <summary>Collects every log message of a host.</summary>
internal sealed class LogSink : ILoggerProvider, ILogger
{
    public ConcurrentQueue<(LogLevel Level, EventId Id, string Message)> Entries { get; } = new();

    public string Text => string.Join("\n", Entries.Select(e => $"{e.Level}: {e.Message}"));

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
        Entries.Enqueue((logLevel, eventId, formatter(state, exception)));

    public void Dispose()
    {
    }
}

/// <summary>
/// The python client (sndbuf_client.py) moved into a cgroup before it starts connecting: it prints
/// getsockopt(SO_SNDBUF) of every connection it opens.
/// </summary>
internal sealed class SndBufClient : IDisposable
{
    private readonly Process _process;
    private readonly List<int> _values = [];
    private readonly Task _reader;

    private SndBufClient(Process process)
    {
        _process = process;
        _reader = Task.Run(async () =>
        {
            while (await process.StandardOutput.ReadLineAsync().ConfigureAwait(false) is { } line)
                lock (_values) _values.Add(int.Parse(line, CultureInfo.InvariantCulture));
        });
    }

    /// <summary>Starts the client, moves it into <paramref name="cgroup"/>, then lets it connect.</summary>
    /// <param name="mode">A connection count, or "until-stop".</param>
    public static SndBufClient Start(Cgroup cgroup, int port, string mode) =>
        new(CgroupScript.Start(cgroup, "sndbuf_client.py", [port.ToString(CultureInfo.InvariantCulture), mode]));

    /// <summary>A snapshot of the values printed so far.</summary>
    public IReadOnlyList<int> Values
    {
        get
        {
            lock (_values) return [.. _values];
        }
    }

    /// <summary>Waits until a value satisfying <paramref name="predicate"/> was printed.</summary>
    public bool WaitFor(Func<int, bool> predicate, TimeSpan timeout)
    {
        var watch = Stopwatch.StartNew();
        while (watch.Elapsed < timeout)
        {
            if (Values.Any(predicate)) return true;
            if (_process.HasExited) return Values.Any(predicate);
            Thread.Sleep(5);
        }
        return false;
    }

    /// <summary>Ends the client ("stop" for until-stop mode) and returns every value; throws when it failed.</summary>
    public IReadOnlyList<int> Finish(TimeSpan timeout)
    {
        if (!_process.HasExited)
        {
            _process.StandardInput.WriteLine("stop");
            _process.StandardInput.Close();
        }
        if (!_process.WaitForExit(timeout)) throw new TimeoutException($"the client did not end within {timeout}");
        _reader.Wait(timeout);
        if (_process.ExitCode != 0) throw new InvalidOperationException($"the client exited with {_process.ExitCode}: {_process.StandardError.ReadToEnd()}");
        return Values;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill();
        _process.Dispose();
    }
}
