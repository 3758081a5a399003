namespace SockOps.Emit.Assembler;

/// <summary>
/// A symbolic map reference left in an <c>ld_imm64</c> at <see cref="InstructionIndex"/> (an index
/// into the instruction list, not a slot number). A loader resolves <see cref="MapName"/> to a map fd
/// and patches it into the immediate just before BPF_PROG_LOAD.
/// </summary>
/// <param name="InstructionIndex">Index of the ld_imm64 in the instruction list.</param>
/// <param name="MapName">The map's name as the program declared it.</param>
/// <param name="Kind"><see cref="PseudoSource.MapFd"/> for the map pointer, <see cref="PseudoSource.MapValue"/> for a pointer into its value.</param>
/// <param name="ValueOffset">Byte offset into the value for <see cref="PseudoSource.MapValue"/>.</param>
public readonly record struct MapReference(int InstructionIndex, string MapName, PseudoSource Kind = PseudoSource.MapFd, int ValueOffset = 0);

/// <summary>A kfunc call left for the loader to resolve: the BTF id of <paramref name="Name"/> goes into the immediate.</summary>
/// <param name="InstructionIndex">Index of the <c>call</c> (source 2) in the instruction list.</param>
/// <param name="Name">The kernel function's name (e.g. <c>bpf_cast_to_kern_ctx</c>).</param>
public readonly record struct KfuncReference(int InstructionIndex, string Name);
