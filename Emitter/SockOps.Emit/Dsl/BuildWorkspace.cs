using SockOps.Emit.Assembler;

namespace SockOps.Emit;

/// <summary>
/// The buffers one <see cref="SockOpsProgram.Build"/> works in (intermediate code, liveness and interference
/// bit sets, machine code, the Assembler's builder), kept per thread and handed to the next Build on that
/// thread. Building the same program again then allocates little more than its <see cref="ProgramImage"/>:
/// the budget is 64 bytes per emitted instruction. A Build nested in another's body finds the slot
/// empty and makes its own workspace.
/// </summary>
#pragma warning disable CA1001 // The Assembler's pooled buffers are kept on purpose, for the thread's next Build.
internal sealed class BuildWorkspace
#pragma warning restore CA1001
{
    [ThreadStatic] private static BuildWorkspace? s_cached;

    // Intermediate code: the builder's body and entry code, then the whole program for the back end.
    public readonly List<IrInst> Code = new(256);
    public readonly List<IrInst> Prologue = new(32);
    public readonly List<IrInst> Program = new(256);

    // The builder's tables.
    public readonly Dictionary<long, short> ConstantSlots = [];
    public readonly Dictionary<int, int> ReturnLabels = [];
    public readonly Dictionary<int, SourceLocation> ReturnLocations = [];
    public readonly Dictionary<string, MapDeclaration> Maps = new(StringComparer.Ordinal);
    public readonly List<int> ActiveScopes = new(8);
    public readonly List<int> PacketScopes = new(4);
    public readonly List<byte> ReadOnlyData = new(64);
    public readonly Dictionary<string, int> ReadOnlyStrings = new(StringComparer.Ordinal);
    // Switch lowering: the label after each case's body, in the order the cases were written; a scratch list.
    public readonly List<int> SwitchCaseEnds = new(8);
    public readonly List<IrInst> MovedCode = new(64);

    // Register allocation (RegisterAllocator): small lists for one instruction's uses and defs, flattened
    // uses/defs of the whole program, live-in/live-out bit sets, the interference matrix, move partners.
    public readonly List<int> Uses = new(8);
    public readonly List<int> Defs = new(8);
    public readonly List<int> UseList = new(512);
    public readonly List<int> DefList = new(512);
    public readonly List<int> Order = new(128);
    public readonly List<int> Reordered = new(128);
    public readonly RegisterAllocator.LiveSets LiveIn = new();
    public readonly RegisterAllocator.LiveSets LiveOut = new();
    public int[] UseStart = [];
    public int[] DefStart = [];
    public int[] JumpTarget = [];
    public int[] LabelIndex = [];
    public ulong[] Adjacency = [];
    public ulong[] LivenessScratch = [];
    public List<int>[] Partners = [];
    public bool[] Seen = [];
    public int[] Colors = [];

    // Machine code (MachineCode): the instruction list, a pool of its entries, label tables by label id.
    public readonly List<MInst> Machine = new(256);
    private readonly List<MInst> _machinePool = new(256);
    private int _machineUsed;
    public int[] LabelPosition = [];
    public int[] LabelReferences = [];
    public readonly List<MInst> InlineCopy = new(4);
    public readonly List<int> TailEnds = new(8);
    public readonly List<(int End, bool IsJump)> Tails = new(8);
    public readonly List<SourceLocation> Locations = new(256);
    public readonly Dictionary<SourceLocation, int> DistinctLocations = new(64);
    public readonly List<(int BuilderIndex, string Name)> Kfuncs = new(4);
    public readonly List<KernelFeature> RequiredFeatures = new(16);
    public int[] SourceIndexes = [];
    public Label[] AssemblerLabels = [];
    public bool[] AssemblerLabelCreated = [];
    public readonly InstructionBuilder Assembler = new(256);

    /// <summary>Takes this thread's workspace (or a new one when it is in use by an outer Build).</summary>
    public static BuildWorkspace Rent()
    {
        var workspace = s_cached ?? new BuildWorkspace();
        s_cached = null;
        return workspace;
    }

    /// <summary>Empties the workspace and keeps it for the next Build on this thread.</summary>
    public static void Return(BuildWorkspace workspace)
    {
        workspace.Code.Clear();
        workspace.Prologue.Clear();
        workspace.Program.Clear();
        workspace.ConstantSlots.Clear();
        workspace.ReturnLabels.Clear();
        workspace.ReturnLocations.Clear();
        workspace.Maps.Clear();
        workspace.ActiveScopes.Clear();
        workspace.PacketScopes.Clear();
        workspace.ReadOnlyData.Clear();
        workspace.ReadOnlyStrings.Clear();
        workspace.SwitchCaseEnds.Clear();
        workspace.MovedCode.Clear();
        workspace.Machine.Clear();
        workspace.Locations.Clear();
        workspace.DistinctLocations.Clear();
        workspace.Kfuncs.Clear();
        workspace.RequiredFeatures.Clear();
        workspace.Assembler.Clear();
        workspace._machineUsed = 0;
        s_cached = workspace;
    }

    /// <summary>A machine-code entry from the pool, reset to its defaults.</summary>
    public MInst NewMachine()
    {
        if (_machineUsed == _machinePool.Count) _machinePool.Add(new MInst());
        var m = _machinePool[_machineUsed++];
        m.Reset();
        return m;
    }

    /// <summary>Returns <paramref name="buffer"/> with at least <paramref name="length"/> elements, the first <paramref name="length"/> cleared.</summary>
    public static T[] Cleared<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[Math.Max(length, buffer.Length * 2)];
        else Array.Clear(buffer, 0, length);
        return buffer;
    }

    /// <summary>Returns <paramref name="buffer"/> with at least <paramref name="length"/> elements (contents unspecified).</summary>
    public static T[] Sized<T>(ref T[] buffer, int length)
    {
        if (buffer.Length < length) buffer = new T[Math.Max(length, buffer.Length * 2)];
        return buffer;
    }
}
