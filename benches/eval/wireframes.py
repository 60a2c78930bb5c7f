#!/usr/bin/env python3
"""Wireframes from screen descriptions, measured over HTTP with a real server.

Starts `bacopilot serve` (the binary given) on a fresh data directory with the
models in --models-dir, sketches a wireframe for each description in
wireframes.json, and reports per split:
  - labels: share of the asked-for labels shown (every word of the expected
    label in one text of the wireframe, case and plural folded);
  - nowhere: words of the wireframe's texts (titles, labels, items, columns,
    options, rows) found neither in the description nor in the generic UI
    words (the list in crates/content/src/screen.rs, GENERIC);
  - seconds: generation time (job start to wireframe).

  python3 benches/eval/wireframes.py --bin target/debug/bacopilot --models-dir models
"""
import argparse, json, os, re, subprocess, sys, tempfile, time, urllib.request

# Mirrors bacopilot_content::screen::GENERIC (words, lower case).
GENERIC = """save cancel search submit back next previous edit delete filter add new
remove close open view details detail home menu help settings sign in out log reset
clear confirm ok yes no export print refresh upload download sort apply done continue
update create select all more""".split()
SMALL = {"a", "an", "the", "of", "to", "for", "by", "and", "or", "as", "their", "s", "with", "in", "on", "at", "from"}


def fold(word):
    w = word.lower()
    if w.endswith("'s"):
        w = w[:-2]
    if len(w) > 3 and w.endswith("s") and not w.endswith("ss"):
        w = w[:-1]
    return w


def words(text):
    return [fold(w) for w in re.findall(r"[A-Za-z0-9]+(?:'[A-Za-z]+)?", text)]


def texts(wireframe):
    out = []
    def walk(c):
        out.append(c.get("label", ""))
        p = c.get("props", {})
        for k in ("items", "columns", "options", "sortable_by"):
            if isinstance(p.get(k), list):
                out.extend(x for x in p[k] if isinstance(x, str))
        for row in p.get("rows", []) or []:
            out.extend(x for x in row if isinstance(x, str))
        for ch in c.get("children", []):
            walk(ch)
    for s in wireframe["screens"]:
        out.append(s["title"])
        for c in s["components"]:
            walk(c)
    return [t for t in out if t.strip()]


def shown(expected, shown_texts):
    want = [w for w in words(expected) if w not in SMALL]
    return any(all(w in set(words(t)) for w in want) for t in shown_texts)


def request(base, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method)
    req.add_header("Authorization", "Bearer " + key)
    if data:
        req.add_header("Content-Type", "application/json")
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", required=True)
    ap.add_argument("--models-dir", default="models")
    ap.add_argument("--set", default=os.path.join(os.path.dirname(__file__), "wireframes.json"))
    ap.add_argument("--port", default="18731")
    ap.add_argument("--split", default=None, help="only this split")
    ap.add_argument("--dump", default=None, help="write the wireframes here")
    args = ap.parse_args()
    cases = [c for c in json.load(open(args.set)) if args.split in (None, c["split"])]
    data = tempfile.mkdtemp(prefix="wf-eval-")
    env = dict(os.environ, BACOPILOT_DATA_DIR=data, BACOPILOT_MODELS_DIR=args.models_dir,
               BACOPILOT_SERVER_LISTEN="127.0.0.1:" + args.port)
    subprocess.run([args.bin, "users", "add", "eval", "--role", "admin", "--password-stdin"],
                   input=b"correct horse battery staple\n", env=env, check=True, capture_output=True)
    out = subprocess.run([args.bin, "keys", "create", "--user", "eval", "--name", "eval", "--scope", "full"],
                         env=env, check=True, capture_output=True).stdout.decode()
    key = out.strip().splitlines()[-1].strip()
    server = subprocess.Popen([args.bin, "serve"], env=env, stdout=subprocess.DEVNULL, stderr=open(os.path.join(data, "log"), "w"))
    base = "http://127.0.0.1:" + args.port
    try:
        for _ in range(600):
            try:
                urllib.request.urlopen(base + "/readyz", timeout=2)
                break
            except Exception:
                time.sleep(1)
        project = request(base, key, "POST", "/api/v1/projects", {"name": "eval"})["id"]
        results, dumps = [], []
        for c in cases:
            t0 = time.time()
            job = request(base, key, "POST", f"/api/v1/projects/{project}/wireframes", {"description": c["description"]})
            while True:
                j = request(base, key, "GET", f"/api/v1/jobs/{job['job_id']}")
                if j["status"] in ("succeeded", "failed", "cancelled"):
                    break
                time.sleep(0.2)
            secs = time.time() - t0
            if j["status"] != "succeeded":
                results.append({**c, "shown": 0, "nowhere": ["(job " + j["status"] + ")"], "seconds": secs})
                continue
            w = request(base, key, "GET", f"/api/v1/wireframes/{j['result']['wireframe_id']}")
            ts = texts(w)
            allowed = set(words(c["description"])) | set(GENERIC)
            nowhere = sorted({x for t in ts for x in words(t) if x not in allowed})
            got = [e for e in c["expected_labels"] if shown(e, ts)]
            results.append({**c, "shown": len(got), "missing": [e for e in c["expected_labels"] if e not in got],
                            "nowhere": nowhere, "seconds": secs})
            dumps.append({"description": c["description"], "texts": ts, "wireframe": w})
        if args.dump:
            json.dump(dumps, open(args.dump, "w"), indent=1)
        for split in ("dev", "held-out"):
            rs = [r for r in results if r["split"] == split]
            if not rs:
                continue
            asked = sum(len(r["expected_labels"]) for r in rs)
            got = sum(r["shown"] for r in rs)
            nw = sum(len(r["nowhere"]) for r in rs)
            secs = sorted(r["seconds"] for r in rs)
            print(f"{split}: {len(rs)} descriptions, labels shown {got}/{asked} = {100*got/asked:.0f}%, "
                  f"words from nowhere {nw}, seconds median {secs[len(secs)//2]:.1f} max {secs[-1]:.1f}")
            for r in rs:
                print(f"  [{r['domain']}] {r['shown']}/{len(r['expected_labels'])} in {r['seconds']:.1f}s"
                      f" missing={r.get('missing')} nowhere={r['nowhere'][:12]}")
    finally:
        server.terminate()
        server.wait()


if __name__ == "__main__":
    main()
