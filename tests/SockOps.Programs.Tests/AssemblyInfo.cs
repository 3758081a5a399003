namespace SockOps.Programs.Tests;

/// <summary>
/// The behaviour tests time retransmissions and sample congestion windows, and the hosting tests count this process's
/// BPF descriptors: kernel tests run one at a time, never beside another test. (Their fixed ports 55601, 10000 and
/// 10001 live in private network namespaces.)
/// </summary>
[CollectionDefinition(nameof(KernelCollection), DisableParallelization = true)]
public sealed class KernelCollection;
