using SockOps.Emit.Assembler;

namespace SockOps.Emit.Runtime.Tests;

/// <summary>Raw instruction helpers for tests (the builder lives in another branch; these are the encodings
/// from RFC 9669 / include/uapi/linux/bpf.h spelled out).</summary>
internal static class Asm
{
    public static Instruction Mov64(int dst, int imm) => new(0xb7, (byte)dst, 0, 0, imm);
    public static Instruction Mov64Reg(int dst, int src) => new(0xbf, (byte)dst, (byte)src, 0, 0);
    public static Instruction Add64(int dst, int imm) => new(0x07, (byte)dst, 0, 0, imm);
    public static Instruction And64(int dst, int imm) => new(0x57, (byte)dst, 0, 0, imm);
    public static Instruction LdxW(int dst, int src, short off) => new(0x61, (byte)dst, (byte)src, off, 0);
    public static Instruction LdxDW(int dst, int src, short off) => new(0x79, (byte)dst, (byte)src, off, 0);
    public static Instruction StxW(int dst, int src, short off) => new(0x63, (byte)dst, (byte)src, off, 0);
    public static Instruction StxDW(int dst, int src, short off) => new(0x7b, (byte)dst, (byte)src, off, 0);
    public static Instruction StW(int dst, short off, int imm) => new(0x62, (byte)dst, 0, off, imm);
    public static Instruction StDW(int dst, short off, int imm) => new(0x7a, (byte)dst, 0, off, imm);
    /// <summary>lock *(u64 *)(dst + off) += src</summary>
    public static Instruction AtomicAdd64(int dst, int src, short off) => new(0xdb, (byte)dst, (byte)src, off, 0);
    public static Instruction JeqImm(int dst, int imm, short off) => new(0x15, (byte)dst, 0, off, imm);
    public static Instruction JneImm(int dst, int imm, short off) => new(0x55, (byte)dst, 0, off, imm);
    public static Instruction JgtImm(int dst, int imm, short off) => new(0x25, (byte)dst, 0, off, imm);
    public static Instruction Ja(short off) => new(0x05, 0, 0, off, 0);
    public static Instruction Call(int helper) => new(0x85, 0, 0, 0, helper);
    public static Instruction Exit() => new(0x95, 0, 0, 0, 0);
    /// <summary>ld_imm64 placeholder for a map fd (patched by the loader from a MapReference).</summary>
    public static Instruction LdMapFd(int dst) => Instruction.LoadImmediate64(Register.FromIndex(dst), 0, PseudoSource.MapFd);

    public const int HelperMapLookupElem = 1;
    public const int HelperRingbufOutput = 130;
    public const int HelperSockOpsCbFlagsSet = 59;
    public const int HelperGetSocketCookie = 46;
    public const int HelperSkStorageGet = 107;
}
