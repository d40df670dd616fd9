"""How many camera streams one ``ova camera`` process serves in real time.

For each N it starts ``ova camera --mounts N --loop-seconds 10`` (1080p30, 4 Mbit/s: one shared
pre-encoded loop, so the server's cost is RTP delivery, not encoding), then N PyAV/TCP reader
processes, one per mount, each demuxing (not decoding, as a recorder does) for ``--seconds``.
It reports each client's packet rate after a warm-up (min and median; 30 pkt/s is real time)
and the server's CPU over the measured window, as a percentage of one core, from psutil when
installed, else /proc.

    python bench/camera_density.py                  # N = 16, 32, 64; about 20 s of reading each
    python bench/camera_density.py --clients 16 --seconds 10
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from typing import Any

READY_TIMEOUT_SECONDS = 180.0
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def reader(url: str, seconds: float, warmup: float) -> dict[str, Any]:
    """One client: open, demux for ``seconds``, return its steady packet rate."""
    import av

    started = time.monotonic()
    try:
        with av.open(url, options={"rtsp_transport": "tcp", "timeout": "5000000"}, timeout=(10, 10)) as box:
            opened = time.monotonic()
            arrivals, sizes = [], []
            for packet in box.demux(video=0):
                if packet.size:
                    arrivals.append(time.monotonic())
                    sizes.append(packet.size)
                if time.monotonic() - started > seconds:
                    break
    except Exception as exc:  # reported in the table
        return {"error": f"{type(exc).__name__}: {exc}"}
    steady = [index for index, t in enumerate(arrivals) if t >= opened + warmup]
    if len(steady) < 2:
        return {"error": "no packets after the warm-up"}
    span = arrivals[steady[-1]] - arrivals[steady[0]]
    octets = sum(sizes[index] for index in steady[1:])
    rate = (len(steady) - 1) / span
    return {"error": None, "open_s": opened - started, "rate": rate, "kbps": octets * 8 / span / 1000}


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far."""
    try:
        import psutil

        times = psutil.Process(pid).cpu_times()
        return float(times.user + times.system)
    except ImportError:
        with open(f"/proc/{pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def machine_busy_seconds() -> tuple[float, float]:
    """(busy, total) CPU seconds of the whole machine so far, from /proc/stat."""
    with open("/proc/stat") as stat:
        values = [int(value) for value in stat.readline().split()[1:]]
    idle = values[3] + values[4]
    return (sum(values) - idle) / CLOCK_TICKS, sum(values) / CLOCK_TICKS


@dataclass
class Server:
    process: subprocess.Popen[bytes]
    urls: list[str]

    @classmethod
    def start(cls, mounts: int, args: argparse.Namespace) -> Server:
        command = [sys.executable, "-m", "ova.cli", "camera", "--port", "0", "--mounts", str(mounts)]
        command += ["--width", str(args.width), "--height", str(args.height), "--fps", "30"]
        command += ["--bitrate-kbps", str(args.bitrate_kbps), "--loop-seconds", str(args.loop_seconds)]
        process = subprocess.Popen(command, stdout=subprocess.PIPE)
        urls: list[str] = []
        ready = threading.Event()

        def read_lines() -> None:
            assert process.stdout is not None
            for raw in process.stdout:
                line = raw.decode().strip()
                if line.startswith("ova camera: rtsp://"):
                    urls.append(line.removeprefix("ova camera: "))
                if line == "ova camera: ready":
                    ready.set()

        threading.Thread(target=read_lines, daemon=True).start()
        if not ready.wait(READY_TIMEOUT_SECONDS):
            process.kill()
            raise RuntimeError("ova camera did not get ready")
        return cls(process, urls)

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()


def start_readers(urls: list[str], args: argparse.Namespace) -> list[subprocess.Popen[bytes]]:
    command = [sys.executable, __file__, "--seconds", str(args.seconds), "--warmup", str(args.warmup)]
    return [subprocess.Popen([*command, "--reader", url], stdout=subprocess.PIPE) for url in urls]


def collect(readers: list[subprocess.Popen[bytes]], timeout: float) -> list[dict[str, Any]]:
    results = []
    deadline = time.monotonic() + timeout
    for process in readers:
        try:
            output, _ = process.communicate(timeout=max(1.0, deadline - time.monotonic()))
            results.append(json.loads(output.decode() or '{"error": "no output"}'))
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            results.append({"error": "timed out"})
    return results


def run_round(clients: int, args: argparse.Namespace) -> dict[str, Any]:
    server = Server.start(clients, args)
    try:
        readers = start_readers(server.urls, args)
        time.sleep(args.warmup + 2.0)  # opening and the probe burst are not measured
        pid = server.process.pid
        cpu_before, machine_before, started = cpu_seconds(pid), machine_busy_seconds(), time.time()
        time.sleep(max(1.0, args.seconds - args.warmup - 3.0))
        cpu_after, machine_after, ended = cpu_seconds(pid), machine_busy_seconds(), time.time()
        results = collect(readers, args.seconds + 30)
    finally:
        server.stop()
    window = ended - started
    rates = [result["rate"] for result in results if result.get("error") is None]
    busy = machine_after[0] - machine_before[0]
    return {
        "clients": clients,
        "ok": len(rates),
        "errors": sorted({result["error"] for result in results if result.get("error")}),
        "min": min(rates, default=0.0),
        "median": statistics.median(rates) if rates else 0.0,
        "kbps": statistics.median([r["kbps"] for r in results if r.get("error") is None] or [0.0]),
        "open_s": statistics.median([r["open_s"] for r in results if r.get("error") is None] or [0.0]),
        "server_cpu": 100 * (cpu_after - cpu_before) / window,
        "machine_cpu": 100 * busy / (machine_after[1] - machine_before[1]),
    }


def print_table(rows: list[dict[str, Any]], args: argparse.Namespace, load: float) -> None:
    print(
        f"\nova camera density: {args.width}x{args.height} 30 fps {args.bitrate_kbps} kbit/s, "
        f"pre-encoded {args.loop_seconds} s loop, one mount per client, PyAV demux over RTSP/TCP, "
        f"{os.cpu_count()} CPUs, load average before the run {load:.1f}; "
        "server CPU is a percentage of one core, machine CPU of all cores"
    )
    print("| clients | ok | min pkt/s | median pkt/s | kbit/s | open s | server CPU | machine CPU |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['clients']} | {row['ok']} | {row['min']:.1f} | {row['median']:.1f} | {row['kbps']:.0f} "
            f"| {row['open_s']:.2f} | {row['server_cpu']:.0f} % | {row['machine_cpu']:.0f} % |"
        )
        for error in row["errors"]:
            print(f"|   | error: {error} | | | | | | |")


def main() -> int:
    formatter = argparse.RawDescriptionHelpFormatter
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=formatter)
    parser.add_argument("--clients", type=int, nargs="+", default=[16, 32, 64])
    parser.add_argument("--seconds", type=float, default=20.0, help="Reading time per client.")
    parser.add_argument("--warmup", type=float, default=3.0, help="Seconds after opening not measured.")
    parser.add_argument("--width", type=int, default=1920)
    parser.add_argument("--height", type=int, default=1080)
    parser.add_argument("--bitrate-kbps", type=int, default=4000)
    parser.add_argument("--loop-seconds", type=float, default=10.0)
    parser.add_argument("--reader", metavar="URL", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.reader:
        print(json.dumps(reader(args.reader, args.seconds, args.warmup)))
        return 0
    load, rows = os.getloadavg()[0], []
    for clients in args.clients:
        rows.append(run_round(clients, args))
        print(json.dumps(rows[-1]), file=sys.stderr, flush=True)
    print_table(rows, args, load)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
