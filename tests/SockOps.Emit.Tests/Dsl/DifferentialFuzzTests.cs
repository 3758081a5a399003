using CsCheck;
using SockOps.Emit.Runtime;
using SockOps.Emit.TestSupport;

namespace SockOps.Emit.Tests.Dsl;

/// <summary>
/// Random DSL programs (statements, expressions of all four types, branches, switches, helpers, null checks,
/// maps, unrolled loops, early returns): every program the emitter accepts must be accepted by the kernel.
/// CI runs a fixed-seed sample; SOCKOPS_FUZZ_COUNT raises the count for a long run.
/// </summary>
public class DifferentialFuzzTests(ITestOutputHelper output)
{
    private sealed class RandomProgram(Random random, SockOpsBuilder b, Map<uint, ulong> array, Map<NoData, NoData> ring, Map<int, ulong> storage)
    {
        private readonly List<U32> _u32 = [];
        private readonly List<I32> _i32 = [];
        private readonly List<U64> _u64 = [];
        private int _depth;

        private static readonly Func<SockOpsCtx, U32>[] Fields =
        [
            c => c.Op, c => c.Family, c => c.LocalPort, c => c.RemotePort, c => c.RemotePortRaw, c => c.RemoteIp4,
            c => c.LocalIp4, c => c.RemoteIp6[1], c => c.LocalIp6[3], c => c.Args[0], c => c.Args[2], c => c.IsFullSock,
            c => c.SndCwnd, c => c.SrttUs, c => c.State, c => c.CbFlags, c => c.SegsOut, c => c.SkbLen, c => c.SkbTcpFlags,
            c => c.TotalRetrans, c => c.SkTxHash, c => c.ReplyLong[3],
        ];

        private int Next(int n) => random.Next(n);

        public void Body()
        {
            for (int i = 0, n = 1 + Next(6); i < n; i++) _u32.Add(b.Local("u" + i, U32Expr(1)));
            for (int i = 0, n = 1 + Next(2); i < n; i++) _i32.Add(b.Local("i" + i, I32Expr(1)));
            _u64.Add(b.Local("q", U64Expr(1)));
            Block(3 + Next(5));
            b.Return(Next(2));
        }

        private void Block(int statements)
        {
            for (int i = 0; i < statements; i++) Statement(last: false);
        }

        private void Statement(bool last)
        {
            _ = last;
            int kind = _depth >= 3 ? Next(5) : Next(20);
            switch (kind)
            {
                case 0: _u32[Next(_u32.Count)].Set(U32Expr(3)); break;
                case 1: _i32[Next(_i32.Count)].Set(I32Expr(3)); break;
                case 2: _u64[0].Set(U64Expr(3)); break;
                case 3: b.Context.Reply.Set(I32Expr(2)); break;
                case 4: b.Context.SkTxHash.Set(U32Expr(2)); break;
                case 5: Nested(() => b.If(Cond(2), () => Block(1 + Next(3)), Next(2) == 0 ? null : () => Block(1 + Next(3)))); break;
                case 6: Nested(() => b.If(Cond(2), () => { Block(Next(2)); b.Return(Next(2)); })); break;
                case 7:
                    Nested(() =>
                    {
                        var sw = b.Switch(Next(2) == 0 ? b.Context.Op : U32Expr(1));
                        var used = new HashSet<int>();
                        for (int c = 0, n = 1 + Next(4); c < n; c++)
                        {
                            int value = Next(16);
                            if (used.Add(value)) sw.Case(value, () => Block(1 + Next(2)));
                        }
                        if (Next(2) == 0) sw.Default(() => Block(1)); else sw.End();
                    });
                    break;
                case 8: _u64[0].Set(_u64[0] + (Next(3) switch { 0 => b.KtimeGetNs(), 1 => b.GetSocketCookie(), _ => b.GetNetnsCookie() })); break;
                case 9: _i32[Next(_i32.Count)].Set(Next(2) == 0 ? b.SetSockOpt(TcpOption.NoDelay, I32Expr(1) & 1) : b.SetSockOpt(SocketLevelOption.Mark, I32Expr(2))); break;
                case 10:
                    Nested(() => b.IfNotNull(b.MapLookup(array, U32Expr(1) & 15), v => v.U64().Set(v.U64() + U64Expr(2))));
                    break;
                case 11:
                    Nested(() => b.IfNotNull(b.Context.Sk, sk =>
                    {
                        _u32[Next(_u32.Count)].Set(sk.DstPort + sk.Family + sk.SrcIp6(Next(4)));
                        if (Next(2) == 0) b.IfNotNull(b.TcpSock(sk), tcp => _u64[0].Set(tcp.BytesAcked + tcp.Delivered));
                    }));
                    break;
                case 12: b.MapUpdate(array, U32Expr(1) & 15, U64Expr(2)); break;
                case 14:
                    Nested(() =>
                    {
                        int length = 1 + Next(40);
                        b.IfPacketHas(length, p =>
                        {
                            int offset = Next(length);
                            _u32[Next(_u32.Count)].Set(p.ReadU8(offset) + (offset + 2 <= length ? p.ReadU16(offset) : 0u));
                            if (Next(3) == 0)
                            {
                                var option = b.StackStruct<ulong>();
                                option.U8(0).Set(254);
                                option.U8(1).Set(8);
                                b.If(Cond(1), () => b.StoreHdrOpt(option, 0));
                            }
                            if (Next(2) == 0) b.Context.SkTxHash.Set(p.ReadU8(Next(length)));
                        });
                    });
                    break;
                case 15:
                    Nested(() => b.IfNotNull(b.RingBufReserve<ulong>(ring), record =>
                    {
                        record.U64().Set(U64Expr(2));
                        b.If(Cond(1), () => b.RingBufSubmit(record), @else: () => b.RingBufDiscard(record));
                    }));
                    break;
                case 16: b.ReserveHdrOpt(U32Expr(1) & 15, 0); break;
                case 17:
                    Nested(() => b.IfNotNull(b.Context.Sk, sk =>
                        b.IfNotNull(b.SkStorageGet(storage, sk, Next(2) == 0 ? SkStorageGetFlags.Create : SkStorageGetFlags.None),
                            v => b.If(Cond(1), () => v.U64().Set(v.U64() + U64Expr(1)), @else: () => _u64[0].Set(v.U64())))));
                    break;
                case 18:
                {
                    var rc = b.GetSockOpt((int)SocketOptionLevel.Tcp, (int)TcpOption.NoDelay, out var value);
                    _i32[Next(_i32.Count)].Set(rc + value);
                    break;
                }
                case 19: _i32[Next(_i32.Count)].Set(b.SetSockOpt(TcpOption.Congestion, Next(2) == 0 ? "cubic" : "reno")); break;
                default: Nested(() => b.For(0, 1 + Next(3), _ => Statement(last: false))); break;
            }
        }

        private void Nested(Action a)
        {
            _depth++;
            try { a(); } finally { _depth--; }
        }

        private U32 U32Expr(int depth)
        {
            if (depth <= 0 || Next(3) == 0)
            {
                return Next(4) switch
                {
                    0 => (uint)random.Next(),
                    1 when _u32.Count > 0 => _u32[Next(_u32.Count)],
                    _ => Fields[Next(Fields.Length)](b.Context),
                };
            }
            U32 l = U32Expr(depth - 1), r = U32Expr(depth - 1);
            return Next(13) switch
            {
                0 => l + r, 1 => l - r, 2 => l * r, 3 => l / r, 4 => l % r, 5 => l & r, 6 => l | r, 7 => l ^ r,
                8 => l << Next(32), 9 => l >> Next(32), 10 => ~l, 11 => ByteOrder.Ntohl(l), _ => (U32)(I32Expr(depth - 1)),
            };
        }

        private I32 I32Expr(int depth)
        {
            if (depth <= 0 || Next(3) == 0)
                return Next(3) switch { 0 => random.Next(-100000, 100000), 1 when _i32.Count > 0 => _i32[Next(_i32.Count)], _ => (I32)U32Expr(0) };
            I32 l = I32Expr(depth - 1), r = I32Expr(depth - 1);
            return Next(9) switch
            {
                0 => l + r, 1 => l - r, 2 => l * r, 3 => l / r, 4 => l % r, 5 => l >> Next(32), 6 => -l, 7 => (I32)(U32)U64Expr(depth - 1), _ => l ^ r,
            };
        }

        private U64 U64Expr(int depth)
        {
            if (depth <= 0 || Next(3) == 0)
                return Next(4) switch { 0 => (ulong)random.NextInt64(), 1 => _u64.Count > 0 ? _u64[0] : b.Context.BytesAcked, 2 => b.Context.BytesReceived, _ => U32Expr(0) };
            U64 l = U64Expr(depth - 1), r = U64Expr(depth - 1);
            return Next(8) switch
            {
                0 => l + r, 1 => l * r, 2 => l / r, 3 => l & r, 4 => l >> Next(64), 5 => (U64)(I64)I32Expr(depth - 1), 6 => l << Next(64), _ => l - r,
            };
        }

        private Condition Cond(int depth)
        {
            if (depth > 0 && Next(3) == 0)
            {
                Condition a = Cond(depth - 1), c = Cond(depth - 1);
                return Next(3) switch { 0 => a & c, 1 => a | c, _ => !a };
            }
            return Next(6) switch
            {
                0 => U32Expr(1) == U32Expr(1),
                1 => U32Expr(1) < U32Expr(1),
                2 => I32Expr(1) <= I32Expr(1),
                3 => U64Expr(1) > U64Expr(1),
                4 => b.Context.Op == SockOp.ActiveEstablishedCb,
                _ => I32Expr(1) >= random.Next(-5, 5),
            };
        }
    }

    private static ProgramImage Generate(int seed, BpfCapabilities capabilities = BpfCapabilities.Root) => SockOpsProgram.Build("fuzz", b =>
    {
        var array = b.Map<uint, ulong>("array", MapType.Array, 16);
        var ring = b.RingBuf("ring", 4096);
        var storage = b.Map<int, ulong>("storage", MapType.SkStorage, 0, MapFlags.NoPrealloc);
        new RandomProgram(new Random(seed), b, array, ring, storage).Body();
    }, capabilities: capabilities, target: TestSupport.HostKernel.Target);

    [Fact]
    public void Accepted_programs_also_load_without_cap_perfmon()
    {
        // The strict loader (CAP_BPF + CAP_NET_ADMIN only) refuses pointer leaks and uninitialised stack reads
        // that root tolerates; the emitter models that column, so its programs must load there too.
        KernelGate.Require();
        var images = new List<ProgramImage>();
        for (int seed = 1; images.Count < 200; seed++)
        {
            try { images.Add(Generate(seed, BpfCapabilities.Bpf | BpfCapabilities.NetAdmin)); }
            catch (EmitException) { }
        }
        images.Add(SeedPrograms.Sockmap());
        images.Add(SeedPrograms.DumpStats(printk: false));
        var failures = Kernel.RawBpf.WithoutPerfmon(() =>
        {
            var refused = new List<string>();
            foreach (var image in images)
            {
                try { DslKernel.Load(image).Dispose(); }
                catch (VerifierException e) { refused.Add(e.ErrorLine + "\n" + DslKernel.Listing(image)); }
            }
            return refused;
        });
        Assert.True(failures.Count == 0, $"{failures.Count} refused without CAP_PERFMON; first: {failures.FirstOrDefault()}");
    }

    [Fact]
    public void Every_program_the_emitter_accepts_loads()
    {
        KernelGate.Require();
        int count = int.TryParse(Environment.GetEnvironmentVariable("SOCKOPS_FUZZ_COUNT"), out int n) ? n : 500;
        int accepted = 0, refusedByEmitter = 0, slots = 0;
        var refusedRules = new Dictionary<EmitRule, int>();
        Gen.Int.Sample(seed =>
        {
            ProgramImage image;
            try
            {
                image = Generate(seed);
            }
            catch (EmitException e)
            {
                refusedByEmitter++;
                refusedRules[e.Rule] = refusedRules.GetValueOrDefault(e.Rule) + 1;
                return;
            }
            DslKernel.AssertLintClean(image);
            try
            {
                using var loaded = DslKernel.Load(image);
            }
            catch (VerifierException e)
            {
                Assert.Fail($"seed {seed}: the kernel refused an emitted program: {e.ErrorLine}\n{DslKernel.Listing(image)}\n{e.Log[^Math.Min(e.Log.Length, 3000)..]}");
            }
            accepted++;
            slots += image.Slots;
        }, iter: count, seed: "0000000000000");
        output.WriteLine($"{accepted} accepted and loaded, {refusedByEmitter} refused by the emitter ({string.Join(", ", refusedRules)}), {slots} slots in total");
        Assert.True(accepted >= count * 9 / 10, $"only {accepted} of {count} generated programs were accepted");
    }
}
