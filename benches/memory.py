#!/usr/bin/env python3
"""Resident memory of a real server process (VmRSS from /proc), as an
operator would see it in `top`: at idle with the role models, with the three
default models loaded, and after eight concurrent streams to each chat model.

    benches/memory.sh                     # builds the dist binary, then runs this
    python3 benches/memory.py --binary B --models-dir models [--streams 8] [--tokens 128]

Prints a Markdown table and the admin API's per-model rows (size, state, what each holds now,
the memory each model may hold at most).
"""

import argparse
import json
import os
import subprocess
import tempfile
import threading
import time
import urllib.request

GEMMA = "gemma-3-270m-q4_k_m"
SMOL = "SmolLM2-135M-Instruct-Q4_1"


def rss_mib(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError("no VmRSS")


def call(base, key, method, path, body=None, timeout=600):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"authorization": f"Bearer {key}",
                                          "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=timeout) as r:
        return json.loads(r.read() or b"null")


def stream(base, key, model, tokens, out):
    body = {"model": model, "stream": True, "max_tokens": tokens, "temperature": 0.7, "seed": len(out),
            "messages": [{"role": "user", "content": "Describe the loan process of a library in detail."}]}
    req = urllib.request.Request(base + "/v1/chat/completions", method="POST", data=json.dumps(body).encode(),
                                 headers={"authorization": f"Bearer {key}", "content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=900) as r:
        out.append(sum(1 for line in r if line.startswith(b"data: ")))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--streams", type=int, default=8)
    ap.add_argument("--tokens", type=int, default=128)
    ap.add_argument("--port", type=int, default=18931)
    a = ap.parse_args()
    data = tempfile.mkdtemp(prefix="bacopilot-memory-")
    common = [a.binary, "--data-dir", data, "--models-dir", a.models_dir]
    env = {**os.environ, "RUST_LOG": "warn"}
    subprocess.run(common + ["users", "add", "bench", "--role", "admin", "--password-stdin"],
                   input="bench password 1\n", text=True, check=True, capture_output=True, env=env)
    key = subprocess.run(common + ["keys", "create", "--user", "bench", "--name", "bench", "--scope", "full"],
                         text=True, check=True, capture_output=True, env=env).stdout.strip().splitlines()[-1]
    server = subprocess.Popen(common + ["serve", "--listen", f"127.0.0.1:{a.port}"], env=env)
    base = f"http://127.0.0.1:{a.port}"
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)
                break
            except Exception:
                time.sleep(0.2)
        time.sleep(1)
        rows = [("idle, role models loaded (SmolLM2, MiniLM)", rss_mib(server.pid))]
        started = time.perf_counter()
        call(base, key, "POST", f"/api/v1/admin/models/{GEMMA}/load", {})
        load_s = time.perf_counter() - started
        time.sleep(1)
        rows.append(("idle, the three default models loaded", rss_mib(server.pid)))
        for model in (SMOL, GEMMA):
            out = []
            threads = [threading.Thread(target=stream, args=(base, key, model, a.tokens, out))
                       for _ in range(a.streams)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            assert len(out) == a.streams, f"{model}: {len(out)} of {a.streams} streams finished"
            time.sleep(1)
            rows.append((f"after {a.streams} concurrent {a.tokens}-token streams to {model}", rss_mib(server.pid)))
        models = call(base, key, "GET", "/api/v1/admin/models")["data"]
    finally:
        server.terminate()
        server.wait()
    print(f"| state | resident MiB |\n|---|---|")
    for name, mib in rows:
        print(f"| {name} | {mib:.0f} |")
    print(f"\nGemma 3 270M loaded on first use in {load_s:.2f} s\n")
    print("| model | architecture | quantization | file MiB | at most MiB | holds now MiB | state |\n|---|---|---|---|---|---|---|")
    for m in models:
        mib = lambda b: f"{b / 2**20:.0f}" if b else ""
        print(f"| {m['id']} | {m['architecture']} | {m['quantization']} | {m['size_bytes'] / 2**20:.0f} | "
              f"{mib(m['memory_bytes'])} | {mib(m.get('resident_bytes'))} | {m['state']} |")


if __name__ == "__main__":
    main()
