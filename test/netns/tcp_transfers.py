"""Many TCP connections at once, each checked by digest (lib.sh: transfers).

  tcp_transfers.py sink ADDRESS PORT COUNT     accepts COUNT connections, prints "bytes sha256"
                                               of each, sorted
  tcp_transfers.py source ADDRESS PORT COUNT [SOURCE_ADDRESS]
                                               opens COUNT connections at once (from
                                               SOURCE_ADDRESS if given), each sending 256 KiB of
                                               random bytes; prints the same lines

Both sides print the same lines when every connection arrived intact; a connection that fails
prints "failed: …" instead. Every socket operation times out after 30 s.
"""
import hashlib
import os
import socket
import sys
import threading

SIZE = 256 * 1024
TIMEOUT = 30


def receive(conn, lines):
    conn.settimeout(TIMEOUT)
    digest, total = hashlib.sha256(), 0
    try:
        while chunk := conn.recv(65536):
            digest.update(chunk)
            total += len(chunk)
        lines.append(f"{total} {digest.hexdigest()}")
    except OSError as e:
        lines.append(f"failed: {e}")
    finally:
        conn.close()


def send(address, port, source, lines):
    data = os.urandom(SIZE)
    try:
        with socket.create_connection((address, port), timeout=TIMEOUT,
                                      source_address=(source, 0) if source else None) as s:
            s.sendall(data)
        lines.append(f"{len(data)} {hashlib.sha256(data).hexdigest()}")
    except OSError as e:
        lines.append(f"failed: {e}")


def main():
    mode, address, port, count = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    source = sys.argv[5] if len(sys.argv) > 5 else None
    lines, threads = [], []
    if mode == "sink":
        server = socket.create_server((address, port), backlog=count)
        server.settimeout(TIMEOUT)
        for _ in range(count):
            conn, _ = server.accept()
            threads.append(threading.Thread(target=receive, args=(conn, lines)))
            threads[-1].start()
    else:
        for _ in range(count):
            threads.append(threading.Thread(target=send, args=(address, port, source, lines)))
            threads[-1].start()
    for t in threads:
        t.join()
    print("\n".join(sorted(lines)))


if __name__ == "__main__":
    main()
