using System.Reflection;

namespace SockOps.Emit.Tests.Layering;

/// <summary>
/// The layering of issue 10: the object model and BTF encoding are kernel-free (Assembler), the Emitter depends only
/// on the Assembler, and the Runtime loads any object without knowing the DSL. Read from the compiled assemblies'
/// references, not from the project files.
/// </summary>
public class LayeringTests
{
    private static string[] References(Assembly assembly) =>
        [.. assembly.GetReferencedAssemblies().Select(a => a.Name!).Where(n => n.StartsWith("SockOps", StringComparison.Ordinal)).Order()];

    [Fact]
    public void The_emitter_references_only_the_assembler() =>
        Assert.Equal(["SockOps.Emit.Assembler"], References(typeof(SockOpsProgram).Assembly));

    [Fact]
    public void The_runtime_references_only_the_assembler() =>
        Assert.Equal(["SockOps.Emit.Assembler"], References(typeof(Runtime.ObjectLoader).Assembly));

    [Fact]
    public void The_object_model_lives_in_the_kernel_free_assembler()
    {
        var assembler = typeof(Assembler.Instruction).Assembly;
        Assert.Empty(References(assembler));
        foreach (var type in new[] { typeof(Emit.Objects.BpfObject), typeof(Emit.Objects.ElfObjectWriter), typeof(Emit.Objects.ElfObjectReader), typeof(Btf.BtfBuilder), typeof(MapType) })
            Assert.Same(assembler, type.Assembly);
    }
}
