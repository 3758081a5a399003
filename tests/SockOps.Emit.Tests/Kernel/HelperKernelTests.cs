using System.Text;
using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Kernel;

/// <summary>
/// Proves the helper allow-list, the GPL-only flags and the CAP_PERFMON group on the real verifier:
/// each id is called from a raw sock_ops program; only the helper-level refusals are compared (later
/// argument errors mean the helper itself was accepted).
/// </summary>
public class HelperKernelTests
{
    private static readonly string[] HelperLevelRefusals =
    [
        "program of this type cannot use helper", "invalid func", "cannot call GPL-restricted function",
        "helper call might sleep in a non-sleepable prog",
    ];

    private static IReadOnlyList<Instruction> CallProgram(int id) => [Insn.Call(id), Insn.Mov64(0, 1), Insn.Exit()];

    /// <summary>The helper-level refusal in the log, or null when the call got past the helper checks.</summary>
    private static string? HelperRefusal(RawBpf.LoadResult result) =>
        result.Accepted ? null : HelperLevelRefusals.FirstOrDefault(r => result.Log.Contains(r, StringComparison.Ordinal));

    private static string Compare(bool isGpl, BpfCapabilities capabilities, Func<int, RawBpf.LoadResult> load)
    {
        var mismatches = new StringBuilder();
        for (int id = 0; id <= SockOpsConstants.HelperIdLimit; id++)
        {
            string? model = Helpers.WhyRefused(id, isGpl, capabilities);
            var result = load(id);
            string? kernel = HelperRefusal(result);
            bool agree = model is null ? kernel is null : kernel is not null && model.StartsWith(kernel, StringComparison.Ordinal);
            if (!agree) mismatches.Append($"#{id}: kernel {(kernel ?? "passes helper checks")} ({result}), model {model ?? "allowed"}\n");
        }
        return mismatches.ToString();
    }

    [Fact]
    public void Allow_list_equals_the_verifier_as_root_with_a_gpl_licence()
    {
        KernelGate.Require();
        string mismatches = Compare(true, BpfCapabilities.Root, id => RawBpf.LoadSockOps(CallProgram(id)));
        Assert.True(mismatches.Length == 0, mismatches);
    }

    [Fact]
    public void Gpl_only_helpers_equal_the_verifier_with_a_non_gpl_licence()
    {
        KernelGate.Require();
        string mismatches = Compare(false, BpfCapabilities.Root, id => RawBpf.LoadSockOps(CallProgram(id), license: "Dual BSD"));
        Assert.True(mismatches.Length == 0, mismatches);
    }

    [Fact]
    public void Perfmon_group_equals_the_verifier_without_cap_perfmon()
    {
        KernelGate.Require();
        string mismatches = RawBpf.WithoutPerfmon(() =>
            Compare(true, BpfCapabilities.Bpf | BpfCapabilities.NetAdmin, id => RawBpf.LoadSockOps(CallProgram(id))));
        Assert.True(mismatches.Length == 0, mismatches);
    }

    [Theory]
    [InlineData(153)]
    [InlineData(154)]
    public void Per_cpu_pointer_helpers_need_cap_perfmon_or_cap_sys_admin_not_just_cap_bpf(int id)
    {
        // The gate is bpf_base_func_proto's bpf_token_capable(token, CAP_PERFMON), which CAP_SYS_ADMIN also passes: either
        // capability alone is enough, CAP_BPF without both is refused at the helper lookup (before any argument check).
        KernelGate.Require();
        string? Refusal(int[] dropped) => HelperRefusal(ThreadCapabilities.RunWithout(dropped, () => RawBpf.LoadSockOps(CallProgram(id))));
        Assert.Equal("program of this type cannot use helper", Refusal([ThreadCapabilities.Perfmon, ThreadCapabilities.SysAdmin]));
        Assert.Null(Refusal([ThreadCapabilities.Perfmon]));
        Assert.Null(Refusal([ThreadCapabilities.SysAdmin]));
        Assert.Equal(HelperCapability.Perfmon, Helpers.Find(id)!.RequiredCapability);
    }
}
