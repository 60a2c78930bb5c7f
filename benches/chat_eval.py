#!/usr/bin/env python3
"""Chat evaluation over a running server: benches/eval/chat.json, one project
per document, one conversation per question, answers streamed over SSE.

    python3 benches/chat_eval.py http://127.0.0.1:8080 KEY_FILE [mode] > rows.jsonl
    python3 benches/chat_eval.py --summary rows.jsonl

Per answer: the expected facts all present (case-insensitive), a repeated
6-gram, numbers not in the document ("1" and citation markers left out),
declined ("do not contain" / "do not answer"), words, time to first token.
The summary reports the dev and held-out documents separately.
"""
import json, re, statistics, sys, time

DECLINE = re.compile(r"do not (contain|answer)", re.I)


def words(t):
    return re.findall(r"[A-Za-z0-9']+", t.lower())


def loops(t, n=6):
    w, seen = words(t), set()
    for i in range(len(w) - n + 1):
        g = tuple(w[i:i + n])
        if g in seen:
            return True
        seen.add(g)
    return False


def numbers(t):
    t = re.sub(r"\[\d+\]", " ", t)
    return {n.replace(",", "").rstrip(".") for n in re.findall(r"\d[\d,.:]*\d|\d", t)}


def run(base, key, mode):
    import requests
    h = {"authorization": f"Bearer {key}"}
    for d in json.load(open("benches/eval/chat.json")):
        p = requests.post(f"{base}/api/v1/projects", json={"name": f"{d['name']} {time.time()}"}, headers=h).json()["id"]
        doc = requests.post(f"{base}/api/v1/projects/{p}/documents", files={"file": (d["name"], d["document"].encode())}, headers=h).json()
        while requests.get(f"{base}/api/v1/documents/{doc['id']}", headers=h).json()["status"] == "processing":
            time.sleep(0.2)
        known = numbers(d["document"])
        for q in d["questions"]:
            c = requests.post(f"{base}/api/v1/projects/{p}/conversations", json={}, headers=h).json()["id"]
            t0, ttft, answer, event = time.time(), None, "", None
            with requests.post(f"{base}/api/v1/conversations/{c}/messages", json={"content": q["q"], "mode": mode},
                               headers={**h, "accept": "text/event-stream"}, stream=True) as r:
                for line in r.iter_lines(decode_unicode=True):
                    if line.startswith("event:"):
                        event = line[6:].strip()
                    elif line.startswith("data:"):
                        data = json.loads(line[5:])
                        if event == "token" and ttft is None:
                            ttft = time.time() - t0
                        if event == "done":
                            answer = data["message"]["content"]
                        if event == "error":
                            answer = "ERROR " + json.dumps(data)
            low = answer.lower()
            print(json.dumps(dict(
                split=d["split"], doc=d["name"], q=q["q"], answerable=q["answerable"], answer=answer,
                ttft=ttft, total=time.time() - t0,
                correct=q["answerable"] and all(e.lower() in low for e in q["expect"]),
                declined=bool(DECLINE.search(answer)), loop=loops(answer),
                invented=sorted(numbers(answer) - known - {"1"}),
                words=len(words(re.sub(r"\[\d+\]", " ", answer))))), flush=True)


def summary(path):
    rows = [json.loads(l) for l in open(path) if l.startswith("{")]
    for split in ["dev", "held-out"]:
        r = [x for x in rows if x["split"] == split]
        if not r:
            continue
        a = [x for x in r if x["answerable"]]
        u = [x for x in r if not x["answerable"]]
        print(f"{split}: expected fact {sum(x['correct'] for x in a)}/{len(a)}, "
              f"repeated 6-gram {sum(x['loop'] for x in r)}/{len(r)}, "
              f"number not in the source {sum(bool(x['invented']) for x in r)}/{len(r)}, "
              f"unanswerable declined {sum(x['declined'] for x in u)}/{len(u)}, "
              f"answerable declined {sum(x['declined'] for x in a)}/{len(a)}, "
              f"median words {statistics.median(x['words'] for x in r)}, "
              f"median time to first token {statistics.median(x['ttft'] or x['total'] for x in r):.2f} s")


if __name__ == "__main__":
    if sys.argv[1] == "--summary":
        summary(sys.argv[2])
    else:
        run(sys.argv[1], open(sys.argv[2]).read().strip(), sys.argv[3] if len(sys.argv) > 3 else "documents_only")
