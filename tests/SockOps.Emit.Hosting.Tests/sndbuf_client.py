"""Client for the hosting tests, run in a cgroup: after a "go" line on stdin, opens TCP connections to
127.0.0.1:PORT one after another and prints getsockopt(SO_SNDBUF) of each, read right after connect() (the sock_ops
program sets it at TCP_CONNECT_CB). With a count, stops after that many; with "until-stop", until a "stop" line."""
import select
import socket
import sys

port = int(sys.argv[1])
mode = sys.argv[2]
if sys.stdin.readline().strip() != "go":
    sys.exit(3)


def one():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        s.connect(("127.0.0.1", port))
        return s.getsockopt(socket.SOL_SOCKET, socket.SO_SNDBUF)
    finally:
        s.close()


if mode == "until-stop":
    while True:
        print(one(), flush=True)
        ready, _, _ = select.select([sys.stdin], [], [], 0)
        if ready:
            break
else:
    for _ in range(int(mode)):
        print(one(), flush=True)
