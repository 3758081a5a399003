using SockOps.Emit.Btf;

namespace SockOps.Emit.Runtime.Btf;

/// <summary>Loading BTF built with the kernel-free <see cref="BtfBuilder"/>.</summary>
public static class BtfBuilderLoading
{
    /// <summary>Builds the blob and loads it with BPF_BTF_LOAD.</summary>
    /// <exception cref="BpfException">The kernel refused the BTF.</exception>
    public static LoadedBtf Load(this BtfBuilder builder)
    {
        ArgumentNullException.ThrowIfNull(builder);
        return LoadedBtf.Load(builder.Build());
    }
}
