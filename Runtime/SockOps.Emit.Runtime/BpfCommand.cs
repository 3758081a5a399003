namespace SockOps.Emit.Runtime;

/// <summary>The bpf(2) commands (<c>enum bpf_cmd</c>, include/uapi/linux/bpf.h).</summary>
public enum BpfCommand
{
    /// <summary>BPF_MAP_CREATE</summary>
    MapCreate = 0,
    /// <summary>BPF_MAP_LOOKUP_ELEM</summary>
    MapLookupElement = 1,
    /// <summary>BPF_MAP_UPDATE_ELEM</summary>
    MapUpdateElement = 2,
    /// <summary>BPF_MAP_DELETE_ELEM</summary>
    MapDeleteElement = 3,
    /// <summary>BPF_MAP_GET_NEXT_KEY</summary>
    MapGetNextKey = 4,
    /// <summary>BPF_PROG_LOAD</summary>
    ProgramLoad = 5,
    /// <summary>BPF_OBJ_PIN</summary>
    ObjectPin = 6,
    /// <summary>BPF_OBJ_GET</summary>
    ObjectGet = 7,
    /// <summary>BPF_PROG_ATTACH</summary>
    ProgramAttach = 8,
    /// <summary>BPF_PROG_DETACH</summary>
    ProgramDetach = 9,
    /// <summary>BPF_PROG_TEST_RUN</summary>
    ProgramTestRun = 10,
    /// <summary>BPF_PROG_GET_NEXT_ID</summary>
    ProgramGetNextId = 11,
    /// <summary>BPF_MAP_GET_NEXT_ID</summary>
    MapGetNextId = 12,
    /// <summary>BPF_PROG_GET_FD_BY_ID</summary>
    ProgramGetFdById = 13,
    /// <summary>BPF_MAP_GET_FD_BY_ID</summary>
    MapGetFdById = 14,
    /// <summary>BPF_OBJ_GET_INFO_BY_FD</summary>
    ObjectGetInfoByFd = 15,
    /// <summary>BPF_PROG_QUERY</summary>
    ProgramQuery = 16,
    /// <summary>BPF_BTF_LOAD</summary>
    BtfLoad = 18,
    /// <summary>BPF_BTF_GET_FD_BY_ID</summary>
    BtfGetFdById = 19,
    /// <summary>BPF_MAP_FREEZE</summary>
    MapFreeze = 22,
    /// <summary>BPF_LINK_CREATE</summary>
    LinkCreate = 28,
    /// <summary>BPF_LINK_UPDATE</summary>
    LinkUpdate = 29,
    /// <summary>BPF_LINK_GET_FD_BY_ID</summary>
    LinkGetFdById = 30,
    /// <summary>BPF_LINK_GET_NEXT_ID</summary>
    LinkGetNextId = 31,
    /// <summary>BPF_ENABLE_STATS</summary>
    EnableStats = 32,
    /// <summary>BPF_LINK_DETACH</summary>
    LinkDetach = 34,
}

/// <summary>Extension methods on <see cref="BpfCommand"/>.</summary>
public static class BpfCommandExtensions
{
    /// <summary>The kernel's name for the command, e.g. <c>BPF_PROG_LOAD</c>.</summary>
    public static string KernelName(this BpfCommand command) => command switch
    {
        BpfCommand.MapCreate => "BPF_MAP_CREATE",
        BpfCommand.MapLookupElement => "BPF_MAP_LOOKUP_ELEM",
        BpfCommand.MapUpdateElement => "BPF_MAP_UPDATE_ELEM",
        BpfCommand.MapDeleteElement => "BPF_MAP_DELETE_ELEM",
        BpfCommand.MapGetNextKey => "BPF_MAP_GET_NEXT_KEY",
        BpfCommand.ProgramLoad => "BPF_PROG_LOAD",
        BpfCommand.ObjectPin => "BPF_OBJ_PIN",
        BpfCommand.ObjectGet => "BPF_OBJ_GET",
        BpfCommand.ProgramAttach => "BPF_PROG_ATTACH",
        BpfCommand.ProgramDetach => "BPF_PROG_DETACH",
        BpfCommand.ProgramTestRun => "BPF_PROG_TEST_RUN",
        BpfCommand.ProgramGetNextId => "BPF_PROG_GET_NEXT_ID",
        BpfCommand.MapGetNextId => "BPF_MAP_GET_NEXT_ID",
        BpfCommand.ProgramGetFdById => "BPF_PROG_GET_FD_BY_ID",
        BpfCommand.MapGetFdById => "BPF_MAP_GET_FD_BY_ID",
        BpfCommand.ObjectGetInfoByFd => "BPF_OBJ_GET_INFO_BY_FD",
        BpfCommand.ProgramQuery => "BPF_PROG_QUERY",
        BpfCommand.BtfLoad => "BPF_BTF_LOAD",
        BpfCommand.BtfGetFdById => "BPF_BTF_GET_FD_BY_ID",
        BpfCommand.MapFreeze => "BPF_MAP_FREEZE",
        BpfCommand.LinkCreate => "BPF_LINK_CREATE",
        BpfCommand.LinkUpdate => "BPF_LINK_UPDATE",
        BpfCommand.LinkGetFdById => "BPF_LINK_GET_FD_BY_ID",
        BpfCommand.LinkGetNextId => "BPF_LINK_GET_NEXT_ID",
        BpfCommand.EnableStats => "BPF_ENABLE_STATS",
        BpfCommand.LinkDetach => "BPF_LINK_DETACH",
        _ => "bpf command " + ((int)command).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
