"""Time from exec to the TUI's first frame, in a pty that answers the
terminal queries (background colour, cursor position) as a terminal does."""
import os, pty, sys, time, select, statistics
binary, runs = sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 10
env = dict(os.environ, TERM="xterm-256color")
times = []
for _ in range(runs):
    t0 = time.perf_counter()
    pid, fd = pty.fork()
    if pid == 0:
        os.execve(binary, [binary], env)
    buf, frame = b"", None
    while time.perf_counter() - t0 < 10:
        r, _, _ = select.select([fd], [], [], 0.5)
        if not r:
            continue
        try:
            d = os.read(fd, 65536)
        except OSError:
            break
        buf += d
        if b"\x1b]11;?" in d:
            os.write(fd, b"\x1b]11;rgb:0000/0000/0000\x1b\\")
        if b"\x1b[6n" in d:
            os.write(fd, b"\x1b[1;1R")
        if b"sesame" in buf.replace(b"\x1b]11;?", b"") and b"\x1b[" in buf and len(buf) > 200:
            frame = time.perf_counter() - t0
            break
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    if frame is None:
        sys.exit("no frame seen; output was %r" % buf[:300])
    times.append(frame * 1000)
print("%.1f" % statistics.median(times))
