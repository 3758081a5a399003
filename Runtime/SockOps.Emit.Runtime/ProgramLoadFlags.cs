namespace SockOps.Emit.Runtime;

/// <summary>Flags of BPF_PROG_LOAD (<c>prog_flags</c>).</summary>
[Flags]
public enum ProgramLoadFlags : uint
{
    /// <summary>No flags.</summary>
    None = 0,
    /// <summary>BPF_F_STRICT_ALIGNMENT: verify alignment as if the CPU required it.</summary>
    StrictAlignment = 1u << 0,
    /// <summary>BPF_F_ANY_ALIGNMENT: allow any alignment.</summary>
    AnyAlignment = 1u << 1,
    /// <summary>BPF_F_TEST_RND_HI32: randomise upper halves (verifier testing).</summary>
    TestRandomHigh32 = 1u << 2,
    /// <summary>BPF_F_TEST_STATE_FREQ: verifier testing.</summary>
    TestStateFrequency = 1u << 3,
    /// <summary>BPF_F_SLEEPABLE</summary>
    Sleepable = 1u << 4,
    /// <summary>BPF_F_XDP_HAS_FRAGS</summary>
    XdpHasFragments = 1u << 5,
}

/// <summary>Verifier log levels (<c>log_level</c> bits).</summary>
[Flags]
public enum VerifierLogLevel : uint
{
    /// <summary>No log unless the load fails (then the loader retries with <see cref="Basic"/>).</summary>
    None = 0,
    /// <summary>BPF_LOG_LEVEL1: the path the verifier walked up to an error.</summary>
    Basic = 1,
    /// <summary>BPF_LOG_LEVEL2: every instruction with full register state.</summary>
    Verbose = 2,
    /// <summary>BPF_LOG_STATS: the statistics summary only.</summary>
    Statistics = 4,
}
