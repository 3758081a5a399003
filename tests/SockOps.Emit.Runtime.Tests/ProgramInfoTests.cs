using SockOps.Emit.Assembler;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Runtime.Tests;

[Collection(nameof(CgroupTrafficCollection))]
public class ProgramInfoTests
{
    [Fact]
    public void Info_reports_xlated_code_jit_size_and_run_statistics_matching_the_callbacks()
    {
        KernelGate.Require();
        using var counts = BpfMap<uint, ulong>.Create(MapType.Array, 32, "op_counts");
        using var program = BpfProgram.Load(new ProgramLoadOptions
        {
            Type = ProgramType.SockOps,
            ExpectedAttachType = AttachType.CgroupSockOps,
            Name = "count_ops",
            Instructions = SockOpsCountingTests.CountingProgram(),
            MapReferences = [new MapReference(3, "op_counts")],
            Maps = new Dictionary<string, BpfMap> { ["op_counts"] = counts },
        });

        var info = program.Info;
        Assert.Equal("count_ops", info.Name);
        Assert.True(info.VerifiedInstructions > 0);
        if (File.ReadAllText("/proc/sys/net/core/bpf_jit_enable").Trim() != "0") Assert.True(info.JitedSize > 0);
        Assert.Equal([counts.Id], info.MapIds);
        // The kernel dumps the map pointer back as BPF_PSEUDO_MAP_FD with the map id in the immediate.
        var ldMap = info.XlatedInstructions.First(i => i.IsWide);
        Assert.Equal((byte)PseudoSource.MapFd, ldMap.SourceIndex);
        Assert.Equal((int)counts.Id, ldMap.Immediate);
        // ctx->op (u32 at 0 of struct bpf_sock_ops) is rewritten into a byte load from struct bpf_sock_ops_kern.
        Assert.Equal(0x71, info.XlatedInstructions[1].Opcode); // ldxb
        Assert.Equal(0ul, info.RunCount);

        using var cgroup = Cgroup.CreateTemporary();
        using var attachment = cgroup.Attach(program);
        using (BpfStats.Enable())
        using (var server = new LoopbackTcp.DrainingServer())
        {
            LoopbackTcp.RunClientProcess(server.Port, 5, cgroup.AddProcess, TimeSpan.FromSeconds(30));
            Assert.True(server.WaitForCompleted(5, TimeSpan.FromSeconds(10)));
            // Every run increments exactly one counter, so run_cnt equals the sum of the counters once stable.
            var deadline = DateTime.UtcNow.AddSeconds(10);
            ulong total;
            ProgramInfo after;
            do
            {
                Thread.Sleep(20);
                total = 0;
                for (uint op = 0; op < 32; op++) total += counts.Lookup(op);
                after = program.Info;
            }
            while ((total != 5 * 9 || after.RunCount != total) && DateTime.UtcNow < deadline);
            Assert.Equal(5ul * 9, total); // 9 callbacks per connection (see SockOpsCountingTests)
            Assert.Equal(total, after.RunCount);
            Assert.True(after.RunTimeNanoseconds > 0);
        }
    }

    [Fact]
    public void Xlated_slots_decode_ld_imm64_as_one_instruction()
    {
        byte[] code =
        [
            0x18, 0x12, 0, 0, 0x78, 0x56, 0x34, 0x12, 0, 0, 0, 0, 0x01, 0, 0, 0, // r2 = map fd 0x12345678 | 1 << 32 (src=1)
            0x95, 0, 0, 0, 0, 0, 0, 0,
        ];
        var decoded = ProgramInfo.DecodeSlots(code);
        Assert.Equal(2, decoded.Length);
        Assert.Equal(Instruction.LoadImmediate64(Register.R2, 0x1_1234_5678, PseudoSource.MapFd), decoded[0]);
        Assert.Equal(new Instruction(0x95, 0, 0, 0, 0), decoded[1]);
    }
}
