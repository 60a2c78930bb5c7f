#!/usr/bin/env python3
"""Time to swap between two chat models under a memory budget that holds one
(300 MiB: 512-token context, two batched sequences, no prefix cache, the
response cache off): each request evicts the other model and loads its own,
then answers one token. Prints seconds per request.

    python3 benches/swap.py [BINARY]   # default: the test-profile binary
"""
import json, subprocess, sys, tempfile, time, urllib.request, os
B=sys.argv[1] if len(sys.argv) > 1 else os.path.expanduser("~/.cache/bacopilot-target/debug/bacopilot")
data=tempfile.mkdtemp()
c=[B,"--data-dir",data,"--models-dir","models"]
env={**os.environ,"BACOPILOT_MODELS_MEMORY_BUDGET_MIB":"300","BACOPILOT_MODELS_MAX_CONTEXT":"512","BACOPILOT_ENGINE_MAX_BATCH":"2","BACOPILOT_ENGINE_PREFIX_CACHE_MIB":"0","RUST_LOG":"warn","BACOPILOT_CACHE_LOCAL":"false"}
subprocess.run(c+["users","add","u","--role","admin","--password-stdin"],input="pass word 123\n",text=True,check=True,capture_output=True,env=env)
key=subprocess.run(c+["keys","create","--user","u","--name","k","--scope","full"],text=True,check=True,capture_output=True,env=env).stdout.split()[-1]
p=subprocess.Popen(c+["serve","--listen","127.0.0.1:18933"],env=env)
def ask(m):
    body={"model":m,"messages":[{"role":"user","content":"Hi"}],"max_tokens":1,"temperature":0}
    r=urllib.request.Request("http://127.0.0.1:18933/v1/chat/completions",data=json.dumps(body).encode(),headers={"authorization":"Bearer "+key,"content-type":"application/json"})
    t=time.perf_counter(); json.load(urllib.request.urlopen(r,timeout=300)); return time.perf_counter()-t
try:
    for _ in range(300):
        try: urllib.request.urlopen("http://127.0.0.1:18933/readyz"); break
        except Exception: time.sleep(0.2)
    warm=ask("SmolLM2-135M-Instruct-Q4_1")
    res=[]
    for i in range(3):
        res.append(("gemma (evicts SmolLM2)", ask("gemma-3-270m-q4_k_m")))
        res.append(("SmolLM2 (evicts Gemma)", ask("SmolLM2-135M-Instruct-Q4_1")))
    print("SmolLM2 loaded, 1-token answer:", round(warm,3))
    for n,t in res: print(n, round(t,3))
finally:
    p.terminate()
