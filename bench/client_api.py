"""Client API admission throughput: valid customer JWTs against invalid ones (security.md L4).

Starts ``ova cloud`` on loopback (a subprocess, real uvicorn, embedded SQLite), creates an
account, a video and an access policy trusting a freshly generated RS256 key, then measures
requests per second of ``GET {endpointUrl}/videos/{name}`` with:

- a valid JWT (200),
- the same JWT with a signature from another key (401 after the signature check),
- garbage of the same length (401 before any cryptography).

Invalid tokens must cost no more than valid ones, or rejecting them is a denial-of-service
lever. The rate limit is raised out of the way through the config file. Each case is run
``--runs`` times, interleaved, and the medians are printed side by side.

Usage::

    python bench/client_api.py                 # wrk if installed, else asyncio + httpx
    python bench/client_api.py --tool httpx --duration 5 --runs 1
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import json
import os
import re
import secrets
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

SUBSCRIPTION = "00000000-0000-0000-0000-00000000be0c"
ACCOUNT = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/bench/providers/Microsoft.Media/videoAnalyzers/bench"
API_VERSION = "2021-11-01-preview"
ISSUER = "https://login.bench.example"
PLACEHOLDER = "${System.Runtime.BaseResourceUrlPattern}"
READY_SECONDS = 30.0


@dataclass(frozen=True)
class Case:
    label: str
    token: str
    expected_status: int


@dataclass(frozen=True)
class Result:
    requests_per_second: float
    p50_ms: float | None
    p99_ms: float | None
    unexpected: int


# --- the server --------------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def ova(*args: str) -> list[str]:
    return [sys.executable, "-m", "ova.cli", *args]


@contextmanager
def cloud(workdir: Path) -> Iterator[str]:
    """``ova cloud`` on a free loopback port with the rate limit out of the way; its base URL."""
    port = free_port()
    config = workdir / "ova-cloud.yaml"
    config.write_text(
        json.dumps(
            {
                "data_dir": str(workdir / "data"),
                "listeners": [{"host": "127.0.0.1", "port": port}],
                "client_api": {
                    "rate_limit_requests": 1_000_000_000,
                    "failed_requests_per_address": 1_000_000_000,
                },
            }
        )
    )
    env = {key: value for key, value in os.environ.items() if not key.startswith("OVA_")}
    log = (workdir / "cloud.log").open("wb")
    process = subprocess.Popen(ova("cloud", "--config", str(config)), stdout=log, stderr=log, env=env)
    try:
        wait_until_listening(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        process.terminate()
        process.wait(timeout=10)
        log.close()


def wait_until_listening(port: int, process: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"ova cloud exited with {process.returncode}")
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            return
        except OSError:
            time.sleep(0.1)
    raise SystemExit("ova cloud did not start listening in time")


def operator_key(workdir: Path) -> str:
    config = workdir / "ova-cloud.yaml"
    done = subprocess.run(
        ova("admin", "create-key", "--config", str(config), "--label", "bench"),
        capture_output=True,
        text=True,
        check=True,
    )
    return done.stdout.strip().splitlines()[-1]


# --- the account, its policy and the tokens ------------------------------------------------------


def b64url_uint(value: int) -> str:
    return (
        base64.urlsafe_b64encode(value.to_bytes((value.bit_length() + 7) // 8, "big")).rstrip(b"=").decode()
    )


def set_up(base_url: str, key: str, signer: rsa.RSAPrivateKey) -> str:
    """Create the account, video ``lobby`` and the policy; the video's client API URL."""
    numbers = signer.public_key().public_numbers()
    policy = {
        "properties": {
            "role": "Reader",
            "authentication": {
                "@type": "#Microsoft.VideoAnalyzer.JwtAuthentication",
                "issuers": [ISSUER],
                "audiences": [PLACEHOLDER],
                "keys": [
                    {
                        "@type": "#Microsoft.VideoAnalyzer.RsaTokenKey",
                        "kid": "bench-rs256",
                        "alg": "RS256",
                        "n": b64url_uint(numbers.n),
                        "e": b64url_uint(numbers.e),
                    }
                ],
            },
        }
    }
    storage = f"/subscriptions/{SUBSCRIPTION}/resourceGroups/bench/providers/x/storageAccounts/s"
    calls = [
        (ACCOUNT, {"location": "westus", "properties": {"storageAccounts": [{"id": storage}]}}),
        (f"{ACCOUNT}/videos/lobby", {"properties": {"title": "lobby"}}),
        (f"{ACCOUNT}/accessPolicies/viewers", policy),
    ]
    headers = {"Authorization": f"Bearer {key}"}
    with httpx.Client(base_url=base_url, headers=headers, params={"api-version": API_VERSION}) as http:
        for path, body in calls:
            http.put(path, json=body).raise_for_status()
        account = http.get(ACCOUNT).json()
    endpoint: str = account["properties"]["endpoints"][0]["endpointUrl"]
    return f"{endpoint}/videos/lobby?api-version={API_VERSION}"


def cases(video_url: str, signer: rsa.RSAPrivateKey) -> list[Case]:
    aud = video_url.split("?", 1)[0]
    claims = {"iss": ISSUER, "aud": aud, "exp": int(time.time()) + 3600}
    headers = {"kid": "bench-rs256", "typ": "JWT"}
    valid = jwt.encode(claims, signer, algorithm="RS256", headers=headers)
    stranger = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    forged = jwt.encode(claims, stranger, algorithm="RS256", headers=headers)
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
    garbage = "".join(secrets.choice(alphabet) for _ in valid)
    return [
        Case("valid JWT", valid, 200),
        Case("bad signature", forged, 401),
        Case("garbage", garbage, 401),
    ]


def check(video_url: str, case: Case) -> None:
    status = httpx.get(video_url, headers={"Authorization": f"Bearer {case.token}"}).status_code
    if status != case.expected_status:
        raise SystemExit(f"{case.label}: expected {case.expected_status}, got {status}")


# --- load generators ---------------------------------------------------------------------------

_LATENCY = re.compile(r"^\s+(50|99)%\s+([\d.]+)(us|ms|s)\s*$", re.MULTILINE)
_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0}


def wrk_command(url: str, token: str, args: argparse.Namespace) -> list[str]:
    return [
        "wrk",
        f"-t{args.threads}",
        f"-c{args.connections}",
        f"-d{args.duration}s",
        "--latency",
        "-H",
        f"Authorization: Bearer {token}",
        url,
    ]


def run_wrk(url: str, case: Case, args: argparse.Namespace) -> Result:
    output = subprocess.run(
        wrk_command(url, case.token, args), capture_output=True, text=True, check=True
    ).stdout
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    latencies = {p: float(v) * _UNIT_MS[u] for p, v, u in _LATENCY.findall(output)}
    non_2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    total = re.search(r"(\d+) requests in", output)
    unexpected = int(non_2xx.group(1)) if non_2xx else 0
    if case.expected_status != 200 and total is not None:
        unexpected = int(total.group(1)) - unexpected
    return Result(rps, latencies.get("50"), latencies.get("99"), unexpected)


async def run_httpx(url: str, case: Case, args: argparse.Namespace) -> Result:
    """A bounded closed loop: ``connections`` workers, each one request at a time, for ``duration``."""
    latencies: list[float] = []
    unexpected = 0
    limits = httpx.Limits(max_connections=args.connections, max_keepalive_connections=args.connections)
    headers = {"Authorization": f"Bearer {case.token}"}
    async with httpx.AsyncClient(limits=limits, headers=headers, timeout=10) as http:
        deadline = time.monotonic() + args.duration

        async def worker() -> None:
            nonlocal unexpected
            while time.monotonic() < deadline:
                started = time.perf_counter()
                response = await http.get(url)
                latencies.append((time.perf_counter() - started) * 1000)
                unexpected += response.status_code != case.expected_status

        started = time.monotonic()
        await asyncio.gather(*(worker() for _ in range(args.connections)))
        elapsed = time.monotonic() - started
    quantiles = statistics.quantiles(latencies, n=100)
    return Result(len(latencies) / elapsed, quantiles[49], quantiles[98], unexpected)


def measure(url: str, case: Case, args: argparse.Namespace) -> Result:
    if args.tool == "wrk":
        return run_wrk(url, case, args)
    return asyncio.run(run_httpx(url, case, args))


# --- report ------------------------------------------------------------------------------------


def report(results: dict[str, list[Result]], args: argparse.Namespace) -> None:
    medians = {
        label: statistics.median(r.requests_per_second for r in runs) for label, runs in results.items()
    }
    valid = medians["valid JWT"]
    print(
        f"\ntool={args.tool} threads={args.threads} connections={args.connections} "
        f"duration={args.duration}s runs={args.runs} cpus={os.cpu_count()} load={os.getloadavg()[0]:.2f}"
    )
    print(f"{'case':<15}{'req/s (median)':>16}{'runs':>28}{'p50 ms':>9}{'p99 ms':>9}{'ratio':>8}{'wrong':>7}")
    for label, runs in results.items():
        each = " ".join(f"{r.requests_per_second:.0f}" for r in runs)
        p50 = statistics.median(r.p50_ms for r in runs if r.p50_ms is not None) if runs[0].p50_ms else 0
        p99 = statistics.median(r.p99_ms for r in runs if r.p99_ms is not None) if runs[0].p99_ms else 0
        wrong = sum(r.unexpected for r in runs)
        print(
            f"{label:<15}{medians[label]:>16.0f}{each:>28}{p50:>9.2f}{p99:>9.2f}"
            f"{medians[label] / valid:>8.2f}{wrong:>7}"
        )
    print("ratio = invalid req/s / valid req/s (>= 1 means rejecting costs no more than granting)")


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tool", choices=["auto", "wrk", "httpx"], default="auto")
    parser.add_argument("--threads", type=int, default=1, help="wrk threads")
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--duration", type=int, default=10, help="seconds per run")
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    if args.tool == "auto":
        args.tool = "wrk" if shutil.which("wrk") else "httpx"
    return args


def main() -> None:
    args = parse_args()
    signer = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with tempfile.TemporaryDirectory(prefix="ova-bench-") as tmp, cloud(Path(tmp)) as base_url:
        video_url = set_up(base_url, operator_key(Path(tmp)), signer)
        all_cases = cases(video_url, signer)
        for case in all_cases:
            check(video_url, case)
        print(f"GET {video_url.replace(base_url, '')}")
        print("wrk command:", " ".join(wrk_command(video_url, "<token>", args)))
        results: dict[str, list[Result]] = {case.label: [] for case in all_cases}
        for run in range(args.runs):
            for case in all_cases:
                result = measure(video_url, case, args)
                results[case.label].append(result)
                print(f"run {run + 1} {case.label:<14} {result.requests_per_second:8.0f} req/s", flush=True)
    report(results, args)


if __name__ == "__main__":
    main()
