namespace SockOps.Emit.Runtime;

/// <summary>A symbolic map reference could not be resolved or does not point at an ld_imm64.</summary>
public sealed class MapReferenceException : ArgumentException
{
    /// <summary>Creates the exception.</summary>
    public MapReferenceException(int instructionIndex, string mapName, string problem)
        : base($"Map reference '{mapName}' at instruction {instructionIndex}: {problem}")
    {
        InstructionIndex = instructionIndex;
        MapName = mapName;
    }

    /// <summary>Index of the referencing instruction in the instruction list.</summary>
    public int InstructionIndex { get; }

    /// <summary>The referenced map name.</summary>
    public string MapName { get; }
}
