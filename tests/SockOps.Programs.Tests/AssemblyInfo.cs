namespace SockOps.Programs.Tests;

/// <summary>
/// Kernel tests share fixed ports (55601, 10000, 10001) and the hosting tests count this process's BPF descriptors:
/// they run one at a time, never beside another test.
/// </summary>
[CollectionDefinition(nameof(KernelCollection), DisableParallelization = true)]
public sealed class KernelCollection;
