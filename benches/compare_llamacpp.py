"""Side-by-side: our engine (`bacopilot bench`) and llama.cpp (through
llama-cpp-python) on the same GGUF, prompt tokens, generated tokens and thread
count, alternating runs. Prints prefill tok/s, decode tok/s, time to first
token and the ratio ours / llama.cpp, then our aggregate decode tok/s with
concurrent streams. Run it through compare-llamacpp.sh.

--smoke runs only our side, with few tokens, so CI checks that the benchmark
works without building llama.cpp."""

import argparse
import os
import re
import statistics
import subprocess
import time

# Must match PROMPT_TEXT in src/bench.rs: both sides repeat it and cut it to
# the same number of tokens (our tokenizer gives llama.cpp's ids).
PROMPT_TEXT = (
    "The library management system shall allow librarians to register new members, "
    "record loans and returns, and send reminders for overdue items. Members can search the catalogue by title, "
    "author or subject, reserve items that are on loan, and see their loan history. "
)


def cells(line):
    return [c.strip() for c in line.strip("|").split("|")]


def bench(binary, model_id, models_dir, threads, prompt_tokens, gen_tokens, concurrency=None):
    """Runs `bacopilot bench` once and returns its output lines."""
    args = [binary, "--models-dir", models_dir, "bench", "--model", model_id, "--runs", "1",
            "--prompt-tokens", str(prompt_tokens), "--gen-tokens", str(gen_tokens)]
    if concurrency:
        args += ["--concurrency", concurrency]
    env = {**os.environ, "RUST_LOG": "warn", "RAYON_NUM_THREADS": str(threads)}
    return subprocess.run(args, check=True, capture_output=True, text=True, env=env).stdout.splitlines()


def ours(binary, model_id, models_dir, threads, prompt_tokens, gen_tokens):
    lines = bench(binary, model_id, models_dir, threads, prompt_tokens, gen_tokens)
    header = cells(next(l for l in lines if l.startswith("| model |")))
    row = dict(zip(header, cells(next(l for l in lines if l.startswith(f"| {model_id} |")))))
    ttft = float(re.sub(r"[^0-9.]", "", row["time to first token"]))
    return float(row["prefill tok/s"]), float(row["decode tok/s"]), ttft


def aggregate(binary, model_id, models_dir, threads, gen_tokens, concurrency):
    """Our aggregate decode tok/s per number of concurrent streams."""
    lines = bench(binary, model_id, models_dir, threads, 32, gen_tokens, concurrency)
    start = lines.index(next(l for l in lines if l.startswith("| concurrent streams |")))
    rows = {}
    for line in lines[start + 2:]:
        if not line.startswith("|"):
            break
        streams, _tokens, decode, _end_to_end = cells(line)
        rows[int(streams)] = float(decode)
    return rows


def llamacpp(llm, prompt_tokens, gen_tokens):
    ids = []
    while len(ids) < prompt_tokens:
        ids += llm.tokenize(PROMPT_TEXT.encode(), add_bos=False, special=True)
    ids = ids[:prompt_tokens]
    llm.reset()
    start = time.perf_counter()
    llm.eval(ids)
    prefill = time.perf_counter() - start
    token = llm.sample(temp=0.0)
    ttft = time.perf_counter() - start
    decode_start = time.perf_counter()
    for _ in range(gen_tokens - 1):
        llm.eval([token])
        token = llm.sample(temp=0.0)
    decode = time.perf_counter() - decode_start
    return prompt_tokens / prefill, (gen_tokens - 1) / decode, ttft * 1000


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--binary", required=True)
    ap.add_argument("--models-dir", required=True)
    ap.add_argument("--model-file", default="SmolLM2-135M-Instruct.Q4_1.gguf")
    ap.add_argument("--prompt-tokens", type=int, default=256)
    ap.add_argument("--gen-tokens", type=int, default=128)
    ap.add_argument("--threads", type=int, default=os.cpu_count())
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--concurrency", default="1,4,8")
    ap.add_argument("--smoke", action="store_true", help="our side only, few tokens (CI)")
    a = ap.parse_args()
    model_id = a.model_file.removesuffix(".gguf").replace(".", "-")
    if a.smoke:
        prefill, decode, ttft = ours(a.binary, model_id, a.models_dir, a.threads, 16, 8)
        agg = aggregate(a.binary, model_id, a.models_dir, a.threads, 8, "1,2")
        print(f"smoke: prefill {prefill:.1f} tok/s, decode {decode:.1f} tok/s, first token {ttft:.0f} ms, "
              f"aggregate decode {agg}")
        assert prefill > 0 and decode > 0 and set(agg) == {1, 2}, "the benchmark printed no figures"
        return
    from llama_cpp import Llama

    llm = Llama(os.path.join(a.models_dir, a.model_file), n_ctx=a.prompt_tokens + a.gen_tokens + 16,
                n_batch=512, n_threads=a.threads, n_threads_batch=a.threads, verbose=False)
    results = {"ours": [], "llama.cpp": []}
    for _ in range(a.runs):
        results["ours"].append(ours(a.binary, model_id, a.models_dir, a.threads, a.prompt_tokens, a.gen_tokens))
        results["llama.cpp"].append(llamacpp(llm, a.prompt_tokens, a.gen_tokens))
    print(f"{model_id}, {a.prompt_tokens}-token prompt, {a.gen_tokens} generated, {a.threads} threads, "
          f"median of {a.runs} alternating runs\n")
    print("| metric | ours | llama.cpp | ours / llama.cpp |\n|---|---|---|---|")
    for i, name in enumerate(["prefill tok/s", "decode tok/s", "time to first token (ms)"]):
        o = statistics.median(r[i] for r in results["ours"])
        l = statistics.median(r[i] for r in results["llama.cpp"])
        print(f"| {name} | {o:.1f} | {l:.1f} | {o / l:.2f} |")
    agg = aggregate(a.binary, model_id, a.models_dir, a.threads, a.gen_tokens, a.concurrency)
    print("\n| concurrent streams (ours) | aggregate decode tok/s | × one stream |\n|---|---|---|")
    for streams, tps in agg.items():
        print(f"| {streams} | {tps:.1f} | {tps / agg[min(agg)]:.2f} |")


if __name__ == "__main__":
    main()
