#!/usr/bin/env python3
"""Kernel observations for the behaviour tests, made in a private network namespace.

The test moves this process into a cgroup (with or without a program attached) and then writes a line on stdin.
The process then unshares its network namespace (CLONE_NEWNET), so its loopback device, addresses, MTU and
netfilter rules are its own: they cannot disturb other tests or processes on the machine and they disappear with
the process, also when a test fails or the process is killed. A cgroup's sock_ops program applies to the sockets
of the processes in the cgroup whatever their network namespace. Each mode prints one JSON line:

  syn-rto  drops the first SYN of every connection to --port with an nftables rule (numgen inc mod 2) and times
           connect(); prints the connect times and the rule's drop counter.
  window   captures the SYN and SYN-ACK of one connection --src -> --dst on --port with an AF_PACKET socket on lo
           (MTU --mtu) and prints their window fields and TCP options (MSS, window scale, timestamps, every option raw).
  cwnd     sends --bytes from a client to a server on ::1 --port and samples the client's tcpi_snd_cwnd (TCP_INFO)
           after every write; prints the largest value seen.
"""
import argparse, ctypes, json, shutil, socket, struct, subprocess, sys, threading, time

CLONE_NEWNET = 0x40000000
ETH_P_ALL = 0x0003
PACKET_OUTGOING = 4
TCP_INFO = 11
TCPI_SND_CWND_OFFSET = 80


def tool(name):
    """ip and nft live in /usr/sbin or /sbin, which a test runner's PATH may lack."""
    found = shutil.which(name) or shutil.which(name, path="/usr/sbin:/sbin:/usr/bin:/bin")
    if found is None:
        raise FileNotFoundError(f"{name} is not installed (.ci/run installs iproute2 and nftables)")
    return found


def run(name, *args, stdin=None):
    subprocess.run([tool(name), *args], input=stdin, check=True, stdout=subprocess.DEVNULL)


def private_netns(mtu):
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    if mtu:
        run("ip", "link", "set", "lo", "mtu", str(mtu))
    run("ip", "link", "set", "lo", "up")


def family_of(address):
    return socket.AF_INET6 if ":" in address else socket.AF_INET


def listener(address, port):
    s = socket.socket(family_of(address), socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind((address, port))
    s.listen(16)
    return s


def syn_rto(args):
    private_netns(0)
    address = "::1" if args.family == 6 else "127.0.0.1"
    # Every other SYN (only SYN, no ACK) to the port is dropped: the first SYN of each connection, never its
    # retransmission. The counter tells how many were dropped.
    run("nft", "-f", "-", stdin=f"""
table inet sockops_probe {{
  chain out {{
    type filter hook output priority 0;
    tcp dport {args.port} tcp flags & (syn | ack) == syn numgen inc mod 2 == 0 counter drop
  }}
}}
""".encode())
    server = listener(address, args.port)
    times = []
    for _ in range(args.count):
        client = socket.socket(family_of(address), socket.SOCK_STREAM)
        start = time.monotonic()
        client.connect((address, args.port))
        times.append(time.monotonic() - start)
        accepted, _ = server.accept()
        accepted.close()
        client.close()
    ruleset = subprocess.run([tool("nft"), "list", "table", "inet", "sockops_probe"], check=True, capture_output=True, text=True).stdout
    dropped = int(ruleset.split("counter packets ")[1].split()[0])
    return {"connect_seconds": times, "syns_dropped": dropped}


def parse_tcp(frame):
    """(tcp header bytes, source address, destination address) of an IPv4/IPv6 TCP frame on lo, else None."""
    ethertype = struct.unpack_from("!H", frame, 12)[0]
    ip = frame[14:]
    if ethertype == 0x86DD and len(ip) >= 40 and ip[6] == 6:
        return ip[40:], socket.inet_ntop(socket.AF_INET6, ip[8:24]), socket.inet_ntop(socket.AF_INET6, ip[24:40])
    if ethertype == 0x0800 and len(ip) >= 20 and ip[9] == 6:
        ihl = (ip[0] & 0x0F) * 4
        return ip[ihl:], socket.inet_ntop(socket.AF_INET, ip[12:16]), socket.inet_ntop(socket.AF_INET, ip[16:20])
    return None


def describe_segment(tcp, src, dst):
    sport, dport = struct.unpack_from("!HH", tcp, 0)
    offset = (tcp[12] >> 4) * 4
    flags = tcp[13]
    window = struct.unpack_from("!H", tcp, 14)[0]
    options = {"mss": None, "wscale": None, "timestamps": False, "options": []}
    i = 20
    while i < offset:
        kind = tcp[i]
        if kind == 0:
            break
        if kind == 1:
            i += 1
            continue
        length = tcp[i + 1]
        if length < 2:
            break
        options["options"].append({"kind": kind, "data": tcp[i + 2:i + length].hex()})
        if kind == 2:
            options["mss"] = struct.unpack_from("!H", tcp, i + 2)[0]
        elif kind == 3:
            options["wscale"] = tcp[i + 2]
        elif kind == 8:
            options["timestamps"] = True
        i += length
    return {"src": src, "dst": dst, "sport": sport, "dport": dport, "syn": bool(flags & 0x02), "ack": bool(flags & 0x10),
            "window": window, **options}


def window(args):
    private_netns(args.mtu)
    for address in {args.src, args.dst}:
        if ":" in address and address != "::1":
            run("ip", "-6", "addr", "add", f"{address}/128", "dev", "lo", "nodad")
        elif ":" not in address and not address.startswith("127."):
            run("ip", "addr", "add", f"{address}/32", "dev", "lo")
    capture = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
    capture.bind(("lo", 0))
    capture.settimeout(5)
    server = listener(args.dst, args.port)
    client = socket.socket(family_of(args.src), socket.SOCK_STREAM)
    client.bind((args.src, 0))
    client.connect((args.dst, args.port))
    accepted, _ = server.accept()
    segments = {}
    while "syn" not in segments or "syn_ack" not in segments:
        frame, address = capture.recvfrom(65536)
        if address[2] != PACKET_OUTGOING:  # lo shows every frame twice: sent and received
            continue
        parsed = parse_tcp(frame)
        if parsed is None:
            continue
        segment = describe_segment(*parsed)
        if not segment["syn"] or args.port not in (segment["sport"], segment["dport"]):
            continue
        segments["syn_ack" if segment["ack"] else "syn"] = segment
    accepted.close()
    client.close()
    return segments


def cwnd(args):
    private_netns(args.mtu)
    server = listener("::1", args.port)
    client = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
    client.connect(("::1", args.port))
    accepted, _ = server.accept()
    received = [0]

    def drain():
        while True:
            data = accepted.recv(1 << 20)
            if not data:
                return
            received[0] += len(data)

    reader = threading.Thread(target=drain)
    reader.start()
    chunk = b"x" * args.chunk
    samples = []
    sent = 0
    while sent < args.bytes:
        sent += client.send(chunk)
        info = client.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 104)
        samples.append(struct.unpack_from("I", info, TCPI_SND_CWND_OFFSET)[0])
    client.shutdown(socket.SHUT_WR)
    reader.join(60)
    accepted.close()
    client.close()
    return {"bytes_sent": sent, "bytes_received": received[0], "samples": len(samples), "max_snd_cwnd": max(samples),
            "last_snd_cwnd": samples[-1]}


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="mode", required=True)
    s = sub.add_parser("syn-rto")
    s.add_argument("--family", type=int, choices=[4, 6], default=6)
    s.add_argument("--port", type=int, default=55601)
    s.add_argument("--count", type=int, default=2)
    w = sub.add_parser("window")
    w.add_argument("--src", required=True)
    w.add_argument("--dst", required=True)
    w.add_argument("--port", type=int, default=55601)
    w.add_argument("--mtu", type=int, default=1500)
    c = sub.add_parser("cwnd")
    c.add_argument("--port", type=int, default=55601)
    c.add_argument("--mtu", type=int, default=1500)
    c.add_argument("--bytes", type=int, default=64 << 20)
    c.add_argument("--chunk", type=int, default=64 << 10)
    args = p.parse_args()
    if sys.stdin.readline() == "":
        return 3
    result = {"syn-rto": syn_rto, "window": window, "cwnd": cwnd}[args.mode](args)
    print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
