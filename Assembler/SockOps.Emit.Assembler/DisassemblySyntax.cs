namespace SockOps.Emit.Assembler;

/// <summary>The text form <see cref="Disassembler"/> prints instructions in.</summary>
public enum DisassemblySyntax
{
    /// <summary>
    /// What <c>llvm-objdump -d</c> of LLVM 14 prints (e.g. <c>r1 = *(u32 *)(r6 + 0)</c>, <c>if w1 s&gt; 5 goto +0</c>);
    /// forms LLVM 14 does not know use the syntax of newer LLVM (e.g. <c>r1 s/= r2</c>, <c>gotol +5</c>).
    /// </summary>
    Llvm,

    /// <summary>
    /// What the kernel's <c>print_bpf_insn</c> (kernel/bpf/disasm.c) prints in verifier logs and
    /// <c>bpftool prog dump xlated</c>, e.g. <c>(61) r1 = *(u32 *)(r6 +0)</c>.
    /// </summary>
    Kernel,
}
