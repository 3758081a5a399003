#!/usr/bin/env python3
"""Loopback TCP traffic for the program tests, run in a process the test moves into a cgroup.

Waits for a line on stdin (the test moves this process into the cgroup first), then for each --port opens a
listener on the loopback address of --family, connects to it, accepts, optionally sends data, and prints one
JSON line describing both ends of every connection. With --hold it then waits for another stdin line before
closing (so sockets stay in socket maps while the test reads them). Sockets belong to the cgroup of the
process that creates them, which is why this runs in its own process.

After the stdin line the process unshares its network namespace and brings its own lo up: the fixed ports cannot
collide with other tests or processes on the machine (the cgroup's program applies whatever the namespace), and
nothing is left behind when the process ends. Without CAP_SYS_ADMIN it stays in the shared namespace and retries a
busy port for up to 10 s. Each connection reports the namespace's net.core.wmem_max/rmem_max
and default congestion control, which is what its sockets were subject to.
"""
import argparse, ctypes, fcntl, json, socket, struct, sys, time

SO_COOKIE = 57
TCP_CONGESTION = 13
TCP_INFO = 11
TCPI_SND_CWND_OFFSET = 80
TCPI_BYTES_ACKED_OFFSET = 120
TCPI_DELIVERED_OFFSET = 192
CLONE_NEWNET = 0x40000000
SIOCGIFFLAGS = 0x8913
SIOCSIFFLAGS = 0x8914
IFF_UP = 0x1


def private_netns():
    """A network namespace of this process alone, with lo up (::1 and 127.0.0.1). False without CAP_SYS_ADMIN."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.unshare(CLONE_NEWNET) != 0:
        if ctypes.get_errno() == 1:  # EPERM: only CAP_BPF + CAP_NET_ADMIN; stay in the shared namespace
            return False
        raise OSError(ctypes.get_errno(), "unshare(CLONE_NEWNET)")
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
        flags = struct.unpack_from("H", fcntl.ioctl(s, SIOCGIFFLAGS, struct.pack("16sH22x", b"lo", 0)), 16)[0]
        fcntl.ioctl(s, SIOCSIFFLAGS, struct.pack("16sH22x", b"lo", flags | IFF_UP))
    return True


def namespace_settings():
    def read(path):
        with open(path) as f:
            return f.read().strip()
    return {"netns_wmem_max": int(read("/proc/sys/net/core/wmem_max")), "netns_rmem_max": int(read("/proc/sys/net/core/rmem_max")),
            "netns_congestion": read("/proc/sys/net/ipv4/tcp_congestion_control")}


def describe(sock, family):
    info = sock.getsockopt(socket.IPPROTO_TCP, TCP_INFO, 232)
    d = {
        "cookie": struct.unpack("Q", sock.getsockopt(socket.SOL_SOCKET, SO_COOKIE, 8))[0],
        "sndbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF),
        "rcvbuf": sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
        "congestion": sock.getsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, 16).split(b"\0")[0].decode(),
        "snd_cwnd": struct.unpack_from("I", info, TCPI_SND_CWND_OFFSET)[0],
        "bytes_acked": struct.unpack_from("Q", info, TCPI_BYTES_ACKED_OFFSET)[0],
        "delivered": struct.unpack_from("I", info, TCPI_DELIVERED_OFFSET)[0],
        "local_port": sock.getsockname()[1],
        "remote_port": sock.getpeername()[1],
    }
    if family == 4:
        d["tos"] = sock.getsockopt(socket.IPPROTO_IP, socket.IP_TOS)
    else:
        d["tclass"] = sock.getsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS)
    return d


def main():
    p = argparse.ArgumentParser()
    p.add_argument("--family", type=int, choices=[4, 6], default=4)
    p.add_argument("--port", type=int, action="append", default=[])
    p.add_argument("--tos", type=int, default=0, help="IP_TOS / IPV6_TCLASS the client sets before connecting")
    p.add_argument("--cc", default=None, help="TCP_CONGESTION the client sets before connecting")
    p.add_argument("--bytes", type=int, default=0, help="bytes the client sends in one write")
    p.add_argument("--duration", type=float, default=0.0, help="seconds of small writes, each waiting for the echo")
    p.add_argument("--hold", action="store_true")
    args = p.parse_args()
    if sys.stdin.readline() == "":
        return 3
    private = private_netns()
    fam = socket.AF_INET if args.family == 4 else socket.AF_INET6
    host = "127.0.0.1" if args.family == 4 else "::1"
    connections = []
    for port in args.port or [0]:
        listener = socket.socket(fam, socket.SOCK_STREAM)
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        # In the shared namespace another process may briefly hold a fixed port: retry.
        for attempt in range(1 if private else 200):
            try:
                listener.bind((host, port))
                break
            except OSError:
                if private or port == 0 or attempt == 199:
                    raise
                time.sleep(0.05)
        listener.listen(8)
        client = socket.socket(fam, socket.SOCK_STREAM)
        if args.tos:
            if args.family == 4:
                client.setsockopt(socket.IPPROTO_IP, socket.IP_TOS, args.tos)
            else:
                client.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_TCLASS, args.tos)
        if args.cc:
            client.setsockopt(socket.IPPROTO_TCP, TCP_CONGESTION, args.cc.encode())
        client.connect(listener.getsockname()[:2])
        server, _ = listener.accept()
        time.sleep(0.05)  # let the final ACK's callbacks run on both sides
        before = describe(client, args.family)
        if args.bytes:
            client.sendall(b"x" * args.bytes)
            got = 0
            while got < args.bytes:
                got += len(server.recv(65536))
        deadline = time.time() + args.duration
        while time.time() < deadline:
            client.sendall(b"ping")
            server.recv(16)
            server.sendall(b"pong")
            client.recv(16)
            time.sleep(0.01)
        connections.append({"port": listener.getsockname()[1], "client": before, "client_after": describe(client, args.family),
                            "server": describe(server, args.family), **namespace_settings()})
        connections[-1]["_sockets"] = (listener, client, server)
    print(json.dumps([{k: v for k, v in c.items() if k != "_sockets"} for c in connections]), flush=True)
    if args.hold:
        sys.stdin.readline()
    for c in connections:
        listener, client, server = c["_sockets"]
        client.shutdown(socket.SHUT_WR)
        while server.recv(65536):
            pass
        server.close()
        client.close()
        listener.close()
    time.sleep(0.1)  # FIN/ACK state changes of the closing sockets
    return 0


if __name__ == "__main__":
    sys.exit(main())
