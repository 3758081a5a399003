using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using SockOps.Emit;
using SockOps.Emit.Hosting;
using SockOps.Emit.Runtime;

namespace SockOps.Programs.Hosting;

/// <summary>
/// Renders what a loaded program reports: every ring buffer record as one line (RttMetrics and DumpStats records
/// decoded), and the contents of its other maps whenever they change (reply counters, recorded header option
/// values, socket map cookies). sk_storage maps are per socket and not listed.
/// </summary>
public sealed class ProgramReporter
{
    private readonly LoadedSockOpsProgram _program;
    private readonly TextWriter _output;
    private readonly Dictionary<string, string> _lastMapText = new(StringComparer.Ordinal);

    /// <summary>Reports <paramref name="program"/> to <paramref name="output"/>.</summary>
    public ProgramReporter(LoadedSockOpsProgram program, TextWriter output)
    {
        _program = program ?? throw new ArgumentNullException(nameof(program));
        _output = output ?? throw new ArgumentNullException(nameof(output));
    }

    /// <summary>Called for each decoded RttMetrics event (before it is printed, when printing is on).</summary>
    public event Action<RttMetricsEvent>? RttEvent;

    /// <summary>Print ring buffer records (false: only raise <see cref="RttEvent"/>).</summary>
    public bool PrintRecords { get; set; } = true;

    /// <summary>Whether the program reports anything at all (has a ring buffer or a listable map).</summary>
    public bool ReportsAnything => _program.Image.Maps.Any(m => m.Kind != MapType.SkStorage && !m.Frozen);

    /// <summary>Prints new ring buffer records and changed maps; returns the number of lines printed.</summary>
    public int Poll()
    {
        int lines = 0;
        foreach (var declaration in _program.Image.Maps)
        {
            switch (declaration.Kind)
            {
                case MapType.RingBuf:
                    _program.RingBuffer(declaration.Name).Consume(record =>
                    {
                        string? text = Format(declaration.Name, record);
                        if (text is null || !PrintRecords) return;
                        _output.WriteLine(text);
                        lines++;
                    });
                    break;
                case MapType.SkStorage:
                    break;
                case MapType.Array when declaration.Frozen:
                    break;   // constant data (the program's .rodata): nothing to report
                default:
                    string current = DescribeMap(declaration, _program.Maps[declaration.Name]);
                    if (_lastMapText.TryGetValue(declaration.Name, out string? last) && last == current) break;
                    _lastMapText[declaration.Name] = current;
                    _output.WriteLine(current);
                    lines++;
                    break;
            }
        }
        return lines;
    }

    private string? Format(string ring, ReadOnlySpan<byte> record)
    {
        if (ring == RttMetrics.RingBufferName && record.Length >= Marshal.SizeOf<RttMetricsEvent>())
        {
            var e = MemoryMarshal.Read<RttMetricsEvent>(record);
            RttEvent?.Invoke(e);
            return string.Create(CultureInfo.InvariantCulture,
                $"{(SockOp)e.Op} cookie={e.Cookie} ports={e.LocalPort}->{e.RemotePort} state={StateName(e.OldState, e.State, (SockOp)e.Op)} srtt={e.SrttUs >> 3}us cwnd={e.SndCwnd} bytes_acked={e.BytesAcked} retrans={e.TotalRetrans}");
        }
        if (ring == DumpStats.RingBufferName && record.Length >= Marshal.SizeOf<DumpStatsRecord>())
        {
            var r = MemoryMarshal.Read<DumpStatsRecord>(record);
            return string.Create(CultureInfo.InvariantCulture,
                $"stats cookie={r.Cookie} dsack_dups={r.DsackDups} delivered={r.Delivered} delivered_ce={r.DeliveredCe} icsk_retransmits={r.IcskRetransmits}");
        }
        if (ring == TxTimestamps.RingBufferName && record.Length >= Marshal.SizeOf<TxTimestampRecord>())
        {
            var t = MemoryMarshal.Read<TxTimestampRecord>(record);
            return string.Create(CultureInfo.InvariantCulture, $"sendmsg->ack cookie={t.Cookie} latency={t.LatencyNs / 1000.0:F1}us");
        }
        return $"{ring}: {Convert.ToHexStringLower(record)}";
    }

    private static string StateName(uint old, uint state, SockOp op) =>
        op == SockOp.StateCb ? $"{(TcpState)old}->{(TcpState)state}" : ((TcpState)state).ToString();

    private static string DescribeMap(MapDeclaration declaration, BpfMap map)
    {
        var entries = new List<string>();
        Span<byte> value = stackalloc byte[map.ValueBufferSize];
        byte[] key = new byte[map.KeySize];
        byte[] next = new byte[map.KeySize];
        bool first = true;
        while (entries.Count < 64 && map.TryGetNextKey(first ? ReadOnlySpan<byte>.Empty : key, next))
        {
            first = false;
            next.CopyTo(key, 0);
            if (map.Type is MapType.SockMap or MapType.SockHash)
            {
                if (map.LookupSocketCookie(key) is ulong cookie) entries.Add($"{Number(key)}=cookie {cookie.ToString(CultureInfo.InvariantCulture)}");
                continue;
            }
            if (!map.TryLookup(key, value)) continue;
            string v = Number(value[..map.ValueSize]);
            if (map.Type == MapType.Array && v == "0") continue;
            entries.Add(declaration.Name == ReplyCounter.MapName ? $"{(Number(key) == "0" ? "replied" : "declined")}={v}" : $"{Number(key)}={v}");
        }
        return $"map {declaration.Name}: " + (entries.Count == 0 ? "(empty)" : string.Join(", ", entries));
    }

    private static string Number(ReadOnlySpan<byte> bytes) => bytes.Length switch
    {
        1 => bytes[0].ToString(CultureInfo.InvariantCulture),
        2 => BinaryPrimitives.ReadUInt16LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
        4 => BinaryPrimitives.ReadUInt32LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
        8 => BinaryPrimitives.ReadUInt64LittleEndian(bytes).ToString(CultureInfo.InvariantCulture),
        _ => Convert.ToHexStringLower(bytes),
    };
}
