"""Side-by-side: our engine (`bacopilot bench`) and llama.cpp (through
llama-cpp-python) on the same GGUF, prompt tokens, generated tokens and thread
count, alternating runs. Prints prefill tok/s, decode tok/s, time to first
token and the ratio ours / llama.cpp. Run it through compare-llamacpp.sh."""

import argparse
import os
import re
import statistics
import subprocess
import time

from llama_cpp import Llama

# Must match PROMPT_TEXT in src/bench.rs: both sides repeat it and cut it to
# the same number of tokens (our tokenizer gives llama.cpp's ids).
PROMPT_TEXT = (
    "The library management system shall allow librarians to register new members, "
    "record loans and returns, and send reminders for overdue items. Members can search the catalogue by title, "
    "author or subject, reserve items that are on loan, and see their loan history. "
)


def ours(binary, model_id, models_dir, prompt_tokens, gen_tokens):
    out = subprocess.run(
        [binary, "--models-dir", models_dir, "bench", "--model", model_id, "--runs", "1",
         "--prompt-tokens", str(prompt_tokens), "--gen-tokens", str(gen_tokens)],
        check=True, capture_output=True, text=True, env={**os.environ, "RUST_LOG": "warn"},
    ).stdout
    lines = out.splitlines()
    cells = lambda line: [c.strip() for c in line.strip("|").split("|")]
    header = cells(next(l for l in lines if l.startswith("| model |")))
    row = dict(zip(header, cells(next(l for l in lines if l.startswith(f"| {model_id} |")))))
    ttft = float(re.sub(r"[^0-9.]", "", row["time to first token"]))
    return float(row["prefill tok/s"]), float(row["decode tok/s"]), ttft


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
    a = ap.parse_args()
    model_id = a.model_file.removesuffix(".gguf").replace(".", "-")
    llm = Llama(os.path.join(a.models_dir, a.model_file), n_ctx=a.prompt_tokens + a.gen_tokens + 16,
                n_batch=512, n_threads=a.threads, n_threads_batch=a.threads, verbose=False)
    results = {"ours": [], "llama.cpp": []}
    for _ in range(a.runs):
        results["ours"].append(ours(a.binary, model_id, a.models_dir, a.prompt_tokens, a.gen_tokens))
        results["llama.cpp"].append(llamacpp(llm, a.prompt_tokens, a.gen_tokens))
    print(f"{model_id}, {a.prompt_tokens}-token prompt, {a.gen_tokens} generated, {a.threads} threads, "
          f"median of {a.runs} alternating runs\n")
    print("| metric | ours | llama.cpp | ours / llama.cpp |\n|---|---|---|---|")
    for i, name in enumerate(["prefill tok/s", "decode tok/s", "time to first token (ms)"]):
        o = statistics.median(r[i] for r in results["ours"])
        l = statistics.median(r[i] for r in results["llama.cpp"])
        print(f"| {name} | {o:.1f} | {l:.1f} | {o / l:.2f} |")


if __name__ == "__main__":
    main()
