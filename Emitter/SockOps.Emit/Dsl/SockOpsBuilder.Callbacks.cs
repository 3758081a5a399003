using System.Runtime.CompilerServices;

namespace SockOps.Emit;

public sealed partial class SockOpsBuilder
{
    /// <summary>
    /// In RTT_CB: the smoothed RTT (<c>srtt_us</c>, µs × 8) including the new sample, as a local. Kernels with
    /// <see cref="KernelTargets.RttCallbackArguments"/> pass it in <c>args[1]</c>. Older kernels pass no arguments
    /// (args read 0) and call the program just before they store the new srtt_us: for such a target the emitter reads
    /// <c>srtt_us</c> (the smoothed RTT before this sample), and on a connection's first sample, when srtt_us is still
    /// 0, <c>rtt_min</c> × 8 (the first sample, which is what the kernel seeds srtt with).
    /// </summary>
    /// <param name="name">The local's name.</param>
    /// <param name="file">Filled in by the compiler.</param>
    /// <param name="line">Filled in by the compiler.</param>
    /// <param name="member">Filled in by the compiler.</param>
    public U32 RttCallbackSrttUs(string name = "srtt", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        var loc = At(file, line, member);
        if (TargetHas(KernelTargets.RttCallbackArguments))
        {
            RequireKernel(KernelTargets.RttCallbackArguments, loc);
            return Local(name, Context.Args[1], file, line, member);
        }
        var srtt = Local(name, Context.SrttUs, file, line, member);
        If(srtt == 0u, () => srtt.Set(Context.RttMin << 3, file, line, member), null, file, line, member);
        return srtt;
    }

    /// <summary>
    /// In RTT_CB: the RTT sample just measured (<c>args[0]</c>, µs). Only kernels with
    /// <see cref="KernelTargets.RttCallbackArguments"/> pass it; for older targets this is an emit error (there is
    /// no equivalent: use <see cref="RttCallbackSrttUs"/>).
    /// </summary>
    /// <param name="name">The local's name.</param>
    /// <param name="file">Filled in by the compiler.</param>
    /// <param name="line">Filled in by the compiler.</param>
    /// <param name="member">Filled in by the compiler.</param>
    public U32 RttCallbackSampleUs(string name = "mrtt", [CallerFilePath] string file = "", [CallerLineNumber] int line = 0, [CallerMemberName] string member = "")
    {
        RequireKernel(KernelTargets.RttCallbackArguments, At(file, line, member));
        return Local(name, Context.Args[0], file, line, member);
    }
}
