using System.Diagnostics;
using SockOps.Emit.Runtime;

namespace SockOps.Emit.TestSupport;

/// <summary>
/// The behaviour tests' python helpers: a script beside the test assembly, started, moved into a cgroup before it does
/// anything (it waits for a "go" line on stdin), then released. Cgroup membership is per process, so the sockets the
/// script opens afterwards all belong to the cgroup.
/// </summary>
public static class CgroupScript
{
    /// <summary>Starts <paramref name="script"/> with python3, moves it into <paramref name="cgroup"/> and writes "go";
    /// kills it when a step fails. Stdin, stdout and stderr are redirected.</summary>
    public static Process Start(Cgroup cgroup, string script, IEnumerable<string> arguments)
    {
        ArgumentNullException.ThrowIfNull(cgroup);
        var start = new ProcessStartInfo("python3")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, script));
        foreach (string argument in arguments) start.ArgumentList.Add(argument);
        var process = Process.Start(start) ?? throw new InvalidOperationException("could not start python3");
        try
        {
            cgroup.AddProcess(process.Id);
            process.StandardInput.WriteLine("go");
            process.StandardInput.Flush();
            return process;
        }
        catch
        {
            Kill(process);
            throw;
        }
    }

    /// <summary>Kills the process (and its children) if it still runs, waits briefly, and disposes it.</summary>
    public static void Kill(Process process)
    {
        ArgumentNullException.ThrowIfNull(process);
        try
        {
            if (!process.HasExited) process.Kill(entireProcessTree: true);
            process.WaitForExit(5000);
        }
        catch (InvalidOperationException)
        {
            // Never started or already reaped.
        }
        process.Dispose();
    }
}
