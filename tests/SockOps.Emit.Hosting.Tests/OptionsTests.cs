using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Hosting.Tests;

/// <summary>A bad option fails the host's start with a message naming it; configuration binds the options.</summary>
public class OptionsTests
{
    private static async Task<string> StartFails(Action<SockOpsOptions>? configure, IDictionary<string, string?>? configuration = null)
    {
        using var host = TestHost.Build(configure, configuration);
        var error = await Assert.ThrowsAsync<OptionsValidationException>(() => host.StartAsync(TestContext.Current.CancellationToken));
        return error.Message;
    }

    private static ProgramImage Program() => Programs.Bufs.Build();

    [Fact]
    public async Task A_missing_cgroup_path_names_the_option()
    {
        string message = await StartFails(o => o.AddProgram(Program()));
        Assert.Contains("SockOps:CgroupPath is required", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_relative_cgroup_path_names_the_option()
    {
        string message = await StartFails(o =>
        {
            o.CgroupPath = "my-service";
            o.AddProgram(Program());
        });
        Assert.Contains("SockOps:CgroupPath 'my-service' must be an absolute path", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_path_outside_the_cgroup2_mount_names_the_option_and_the_mount()
    {
        KernelGate.Require();
        string message = await StartFails(o =>
        {
            o.CgroupPath = "/tmp";
            o.AddProgram(Program());
        });
        Assert.Contains($"SockOps:CgroupPath '/tmp' is not under the cgroup2 mount {Cgroup.FindMountPoint()}", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_missing_cgroup_from_configuration_names_the_option_and_CreateCgroup()
    {
        KernelGate.Require();
        string path = Path.Combine(Cgroup.FindMountPoint(), "sockops-emit-missing-" + Guid.NewGuid().ToString("N")[..8]);
        string message = await StartFails(o => o.AddProgram(Program()), new Dictionary<string, string?> { ["SockOps:CgroupPath"] = path });
        Assert.Contains($"SockOps:CgroupPath '{path}' does not exist; create it or set SockOps:CreateCgroup to true", message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(path));
    }

    [Fact]
    public async Task KeepAttachedOnStop_without_a_pin_directory_and_a_pin_directory_off_bpffs_name_their_options()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string message = await StartFails(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.KeepAttachedOnStop = true;
            o.AddProgram(Program());
        });
        Assert.Contains("SockOps:KeepAttachedOnStop needs SockOps:PinDirectory", message, StringComparison.Ordinal);
        message = await StartFails(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.PinDirectory = "/tmp/sockops-pins";
            o.AddProgram(Program());
        });
        Assert.Contains("SockOps:PinDirectory '/tmp/sockops-pins' is not on a bpffs mount", message, StringComparison.Ordinal);
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    [Fact]
    public async Task No_program_names_Programs()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string message = await StartFails(o => o.CgroupPath = cgroup.Path);
        Assert.Contains("SockOps:Programs: no program was added", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Two_programs_of_one_name_name_Programs()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        string message = await StartFails(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.AddProgram(Program()).AddProgram(_ => Program());
        });
        Assert.Contains("SockOps:Programs: 2 programs are named 'bufs'", message, StringComparison.Ordinal);
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    /// <summary>Capabilities are per thread, and bpf(2) checks the caller's: a start on a thread without CAP_BPF and
    /// CAP_SYS_ADMIN fails before anything is loaded.</summary>
    [Fact]
    public void A_start_without_CAP_BPF_fails_naming_the_capability()
    {
        KernelGate.Require();
        using var cgroup = Cgroup.CreateTemporary();
        using var host = TestHost.Build(o =>
        {
            o.CgroupPath = cgroup.Path;
            o.AddProgram(Program());
        });
        var error = ThreadCapabilities.RunWithout([ThreadCapabilities.Bpf, ThreadCapabilities.SysAdmin],
            () => Record.Exception(() => host.StartAsync(TestContext.Current.CancellationToken).GetAwaiter().GetResult()));
        var failed = Assert.IsType<OptionsValidationException>(error);
        Assert.Contains("SockOps: cannot load programs: the process (its starting thread) lacks CAP_BPF", failed.Message, StringComparison.Ordinal);
        Assert.Empty(cgroup.QueryPrograms(AttachType.CgroupSockOps));
    }

    [Fact]
    public async Task Configuration_binds_the_options_and_CreateCgroup_creates_the_cgroup()
    {
        KernelGate.Require();
        using var parent = Cgroup.CreateTemporary();
        string path = Path.Combine(parent.Path, "service");
        var configuration = new Dictionary<string, string?>
        {
            ["SockOps:CgroupPath"] = path,
            ["SockOps:CreateCgroup"] = "true",
            ["SockOps:EnableStatistics"] = "false",
        };
        using var host = TestHost.Build(o => o.AddProgram(Program()), configuration);
        var options = host.Services.GetRequiredService<IOptions<SockOpsOptions>>().Value;
        Assert.Equal((path, true, false), (options.CgroupPath, options.CreateCgroup, options.EnableStatistics));
        await host.StartAsync(TestContext.Current.CancellationToken);
        try
        {
            using var created = Cgroup.Open(path);
            Assert.Equal([host.Services.GetRequiredService<SockOpsPrograms>()["bufs"].ProgramId], created.QueryPrograms(AttachType.CgroupSockOps));
        }
        finally
        {
            await host.StopAsync(TestContext.Current.CancellationToken);
            Directory.Delete(path); // the service leaves a cgroup it created (processes may be placed in it by others)
        }
    }
}
