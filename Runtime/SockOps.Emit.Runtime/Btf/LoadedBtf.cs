using System.Text;
using SockOps.Emit.Runtime.Interop;

namespace SockOps.Emit.Runtime;

/// <summary>A BTF object loaded into the kernel (BPF_BTF_LOAD).</summary>
public sealed class LoadedBtf : IDisposable
{
    private LoadedBtf(BpfFileDescriptor fd) => Fd = fd;

    /// <summary>The BTF object's descriptor.</summary>
    public BpfFileDescriptor Fd { get; }

    /// <summary>Loads a BTF blob; on refusal the kernel's BTF log is in the exception message.</summary>
    public static unsafe LoadedBtf Load(ReadOnlySpan<byte> blob)
    {
        fixed (byte* data = blob)
        {
            var attr = new BtfLoadAttr { Btf = (ulong)data, BtfSize = (uint)blob.Length };
            int result = BpfSyscall.TryInvoke(BpfCommand.BtfLoad, ref attr);
            if (result >= 0) return new LoadedBtf(new BpfFileDescriptor(result));
            // Retry with a log to say why.
            byte[] log = new byte[64 * 1024];
            fixed (byte* logPtr = log)
            {
                attr = new BtfLoadAttr { Btf = (ulong)data, BtfSize = (uint)blob.Length, LogBuf = (ulong)logPtr, LogSize = (uint)log.Length, LogLevel = 1 };
                int second = BpfSyscall.TryInvoke(BpfCommand.BtfLoad, ref attr);
                if (second >= 0) return new LoadedBtf(new BpfFileDescriptor(second));
                int end = Array.IndexOf(log, (byte)0);
                string text = Encoding.UTF8.GetString(log, 0, end < 0 ? log.Length : end).Trim();
                throw new BpfException(BpfCommand.BtfLoad, -second, text.Length == 0 ? null : "BTF log: " + text.Replace('\n', ' '));
            }
        }
    }

    /// <inheritdoc />
    public void Dispose() => Fd.Dispose();
}
