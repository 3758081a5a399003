using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>Kinds of the compiler's intermediate instructions (virtual registers, symbolic labels).</summary>
internal enum IrKind
{
    Label,
    Mov,        // dst = src            (Is64: 64-bit move, else mov32 which zero-extends)
    MovImm,     // dst = imm
    MovSx32,    // dst = (s64)(s32)src  (cpu v4 movsx)
    Alu,        // dst op= src
    AluImm,     // dst op= imm
    Neg,        // dst = -dst
    Swap,       // dst = bswap(dst) for Imm bits (16/32/64) — BPF_END to big endian
    LdImm64,    // dst = imm64, or map pointer when MapName != null (map value + Imm when MapValue)
    StackAddr,  // dst = r10 + Offset
    Load,       // dst = *(size*)(src + off)
    Store,      // *(size*)(dst + off) = src   (dst is the base)
    StoreImm,   // *(size*)(dst + off) = imm
    Jump,       // goto Target
    CondJump,   // if dst cond src goto Target
    CondJumpImm,// if dst cond imm goto Target
    Call,       // call helper Imm; uses r1..r(ArgCount), clobbers r0..r5
    Exit,       // exit (uses r0)
}

/// <summary>
/// One intermediate instruction. Registers are numbers: 0..10 physical, ≥ 16 virtual. A struct kept in
/// reused lists (<see cref="BuildWorkspace"/>): a Build creates a few hundred of them, and as objects they
/// were a large share of its allocation.
/// </summary>
internal struct IrInst
{
    public IrInst() { }

    public IrKind Kind;
    public bool Is64 = true;
    public int Dst = -1;
    public int Src = -1;
    public long Imm;
    public short Offset;
    public MemorySize Size;
    public AluOperation AluOp;
    public JumpOperation Cond;
    public int Target = -1;       // label id
    public int LabelId = -1;      // for Label
    public string? MapName;
    /// <summary>For an LdImm64 of a map: a pointer into the map's value at offset <see cref="Imm"/> (BPF_PSEUDO_MAP_VALUE), not the map itself.</summary>
    public bool MapValue;
    /// <summary>For a kfunc call: the kernel function's name (its BTF id is patched in at load time).</summary>
    public string? KfuncName;
    public int ArgCount;
    public SourceLocation Location;

    public override readonly string ToString() => Kind switch
    {
        IrKind.Label => $"L{LabelId}:",
        IrKind.Mov => $"v{Dst} = {(Is64 ? "" : "(u32)")}v{Src}",
        IrKind.MovImm => $"v{Dst} = {Imm}",
        IrKind.Alu => $"v{Dst} {AluOp}= v{Src}",
        IrKind.AluImm => $"v{Dst} {AluOp}= {Imm}",
        IrKind.Load => $"v{Dst} = *({Size})(v{Src}+{Offset})",
        IrKind.Store => $"*({Size})(v{Dst}+{Offset}) = v{Src}",
        IrKind.StoreImm => $"*({Size})(v{Dst}+{Offset}) = {Imm}",
        IrKind.CondJump => $"if v{Dst} {Cond} v{Src} goto L{Target}",
        IrKind.CondJumpImm => $"if v{Dst} {Cond} {Imm} goto L{Target}",
        IrKind.Jump => $"goto L{Target}",
        IrKind.Call => $"call {Imm}",
        _ => Kind.ToString(),
    };

    /// <summary>Registers read by this instruction.</summary>
    public readonly void Uses(List<int> into)
    {
        into.Clear();
        switch (Kind)
        {
            case IrKind.Mov: case IrKind.MovSx32: into.Add(Src); break;
            case IrKind.Alu: into.Add(Dst); into.Add(Src); break;
            case IrKind.AluImm: case IrKind.Neg: case IrKind.Swap: into.Add(Dst); break;
            case IrKind.Load: into.Add(Src); break;
            case IrKind.Store: into.Add(Dst); into.Add(Src); break;
            case IrKind.StoreImm: into.Add(Dst); break;
            case IrKind.CondJump: into.Add(Dst); into.Add(Src); break;
            case IrKind.CondJumpImm: into.Add(Dst); break;
            case IrKind.Call: for (int i = 1; i <= ArgCount; i++) into.Add(i); break;
            case IrKind.Exit: into.Add(0); break;
        }
        // r10 (the frame pointer) is never allocated, so it is not a use.
        for (int i = into.Count - 1; i >= 0; i--) if (into[i] == 10) into.RemoveAt(i);
    }

    /// <summary>Registers written by this instruction.</summary>
    public readonly void Defs(List<int> into)
    {
        into.Clear();
        switch (Kind)
        {
            case IrKind.Mov: case IrKind.MovImm: case IrKind.MovSx32: case IrKind.Alu: case IrKind.AluImm:
            case IrKind.Neg: case IrKind.Swap: case IrKind.LdImm64: case IrKind.StackAddr: case IrKind.Load:
                into.Add(Dst); break;
            case IrKind.Call: for (int i = 0; i <= 5; i++) into.Add(i); break;
        }
    }
}
