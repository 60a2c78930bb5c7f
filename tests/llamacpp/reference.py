"""llama.cpp's side of the engine's reference tests (crates/engine/tests/llamacpp.rs).

Run with the python of scripts/llamacpp-venv.sh (llama-cpp-python, gguf, numpy).

  reference.py tiny --arch {llama,qwen2,qwen3,gemma3} --out PATH [--seed N] [--type T]
      Writes a small GGUF with random weights in a mix of block types, quantized
      by llama.cpp's own ggml_quantize_chunk (gguf-py cannot quantize K-quants).
  reference.py run --model PATH --tokens 1,2,3 [--steps 32] [--top 64] [--kv f32|f16]
      Greedy-decodes with llama.cpp, argmax of the raw logits (no sampler):
      {"tokens": [...], "top": [[[id, logit], ...] per step], "range": [max - min
      logit per step], "first_logits": [step 0's logits, or null past 4096 tokens]}.

Both print one JSON object on stdout.
"""

import argparse
import ctypes
import json
import pathlib
import sys

import gguf
import numpy as np
from gguf import GGMLQuantizationType as T

HIDDEN = 256  # a multiple of 256: K-quant blocks span 256 values of a row
HEADS = 4
KV_HEADS = 2
HEAD_DIM = 64
FF = 512
VOCAB = 1024
EPS = 1e-6

# Per-architecture differences, as llama.cpp reads them (src/models/<arch>.cpp).
ARCHS = {
    "llama": dict(layers=3, key_length=HEAD_DIM, rope_base=10000.0),
    # Biases on Q, K and V.
    "qwen2": dict(layers=3, key_length=HEAD_DIM, rope_base=1000000.0, qkv_bias=True),
    # Per-head RMSNorm of Q and K; heads of 128 make q_dim (512) differ from hidden.
    "qwen3": dict(layers=3, key_length=128, rope_base=1000000.0, qk_norm=True),
    # Six layers because llama.cpp's default sliding-window pattern is 6 (five
    # local layers with rope base 10000, then one global) and converted Gemma 3
    # files carry no pattern key; a window of 12 is shorter than prompt + steps.
    "gemma3": dict(layers=6, key_length=HEAD_DIM, rope_base=1000000.0, qk_norm=True,
                   gemma=True, sliding_window=12),
}

# Weight matrices of a layer, in the order the block types below rotate over.
MATRICES = ["attn_q", "attn_k", "attn_v", "attn_output", "ffn_gate", "ffn_up", "ffn_down"]
# Rotated by layer so every type meets several matrix shapes; Q5_0 because the
# shipped Gemma 3 file uses it for most of its projections.
TYPES = [T.Q4_K, T.Q5_K, T.Q6_K, T.Q8_0, T.Q4_0, T.Q4_1, T.Q5_0]

# llama.cpp keeps K and V in f16 by default, and then rounds Q and the attention
# weights to f16 for its products: that alone moves SmolLM2's logits by up to
# 0.7 (on a range of ~35). The tests use f32, which keeps attention in f32 as ours.
KV_TYPES = {"f32": int(T.F32), "f16": int(T.F16)}


def ggml_base():
    """llama.cpp's ggml library from the llama-cpp-python package."""
    import llama_cpp

    lib_dir = pathlib.Path(llama_cpp.__file__).parent / "lib"
    for name in ("libggml-base.so", "libggml-base.dylib", "ggml-base.dll"):
        if (lib_dir / name).exists():
            lib = ctypes.CDLL(str(lib_dir / name))
            break
    else:
        sys.exit(f"reference: no ggml-base library in {lib_dir}")
    lib.ggml_quantize_chunk.restype = ctypes.c_size_t
    lib.ggml_quantize_chunk.argtypes = [
        ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p,
        ctypes.c_int64, ctypes.c_int64, ctypes.c_int64, ctypes.c_void_p,
    ]
    return lib


def quantize(lib, w, qtype):
    """Blocks of `w` (rows x cols, f32) in `qtype`, as uint8 rows; checked against gguf-py's dequantizer."""
    w = np.ascontiguousarray(w, dtype=np.float32)
    rows, cols = w.shape
    block, size = gguf.GGML_QUANT_SIZES[qtype]
    out = np.zeros((rows, cols // block * size), dtype=np.uint8)
    written = lib.ggml_quantize_chunk(int(qtype), w.ctypes.data, out.ctypes.data, 0, rows, cols, None)
    assert written == out.nbytes, (qtype.name, written, out.nbytes)
    back = gguf.quants.dequantize(out, qtype)
    err = np.abs(back - w).max() / np.abs(w).max()
    assert err < 0.2, f"{qtype.name} round trip off by {err:.3f} of the range"
    return out


def tokenizer_metadata(writer):
    """A SentencePiece-style vocabulary llama.cpp accepts: <unk> <s> </s>, 256 byte tokens, fillers."""
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    types += [gguf.TokenType.BYTE] * 256
    while len(tokens) < VOCAB:
        tokens.append(f"\u2581w{len(tokens)}")
        types.append(gguf.TokenType.NORMAL)
    writer.add_tokenizer_model("llama")
    writer.add_token_list(tokens)
    writer.add_token_scores([0.0] * 3 + [-float(i) for i in range(3, VOCAB)])
    writer.add_token_types(types)
    writer.add_bos_token_id(1)
    writer.add_eos_token_id(2)
    writer.add_unk_token_id(0)
    writer.add_add_bos_token(False)


def tiny(args):
    spec = ARCHS[args.arch]
    rng = np.random.default_rng(args.seed)
    lib = ggml_base()
    layers, kd = spec["layers"], spec["key_length"]
    q_dim, kv_dim = HEADS * kd, KV_HEADS * kd
    gemma = spec.get("gemma", False)

    w = gguf.GGUFWriter(args.out, args.arch)
    w.add_name(f"tiny-random-{args.arch}")
    w.add_block_count(layers)
    w.add_context_length(2048)
    w.add_embedding_length(HIDDEN)
    w.add_feed_forward_length(FF)
    w.add_head_count(HEADS)
    w.add_head_count_kv(KV_HEADS)
    w.add_key_length(kd)
    w.add_value_length(kd)
    w.add_rope_dimension_count(kd)
    w.add_rope_freq_base(spec["rope_base"])
    w.add_layer_norm_rms_eps(EPS)
    if "sliding_window" in spec:
        w.add_sliding_window(spec["sliding_window"])
    tokenizer_metadata(w)

    def normal(*shape, std=1.0):
        return rng.standard_normal(shape).astype(np.float32) * std

    def norm_weight(n, scale=1.0):
        # Around 1, as trained norms are (Gemma files store 1 + w already).
        return (scale * (1.0 + normal(n, std=0.1))).astype(np.float32)

    def matrix(name, rows, cols, qtype):
        # Unit-variance outputs for unit-variance inputs.
        m = normal(rows, cols, std=cols ** -0.5)
        if qtype == T.F32:
            w.add_tensor(name, m)
        else:
            w.add_tensor(name, quantize(lib, m, qtype), raw_dtype=qtype)

    # Unit-RMS embeddings after Gemma's sqrt(hidden) input scaling.
    emb = normal(VOCAB, HIDDEN)
    stored = emb / np.sqrt(HIDDEN) if gemma else emb
    w.add_tensor("token_embd.weight", quantize(lib, stored, T.Q8_0), raw_dtype=T.Q8_0)

    # Clear greedy margins: output row v is the embedding of token perm[v]
    # (scaled), so the logit of v is large when the residual stream still
    # carries that token's embedding and the next token is perm^-1(current).
    # The layers add a residual of about the embedding's size, which moves every
    # logit (the comparison's real content) but cannot overturn the winner.
    perm = rng.permutation(VOCAB)
    out = 0.05 * emb[perm]
    w.add_tensor("output.weight", quantize(lib, out, T.Q6_K), raw_dtype=T.Q6_K)
    w.add_tensor("output_norm.weight", norm_weight(HIDDEN))

    # Gemma's post-norms set each sublayer's contribution; 0.3 keeps the sum of
    # twelve of them near the embedding's size.
    post = 0.3
    for i in range(layers):
        b = f"blk.{i}"
        shapes = {
            "attn_q": (q_dim, HIDDEN), "attn_k": (kv_dim, HIDDEN), "attn_v": (kv_dim, HIDDEN),
            "attn_output": (HIDDEN, q_dim),
            "ffn_gate": (FF, HIDDEN), "ffn_up": (FF, HIDDEN), "ffn_down": (HIDDEN, FF),
        }
        for j, m in enumerate(MATRICES):
            qtype = T[args.type] if args.type else TYPES[(i + j) % len(TYPES)]
            matrix(f"{b}.{m}.weight", *shapes[m], qtype)
        # Sharper attention than unit-variance Q gives, so positions matter.
        w.add_tensor(f"{b}.attn_norm.weight", norm_weight(HIDDEN, 1.5))
        w.add_tensor(f"{b}.ffn_norm.weight", norm_weight(HIDDEN))
        if spec.get("qkv_bias"):
            w.add_tensor(f"{b}.attn_q.bias", normal(q_dim, std=0.5))
            w.add_tensor(f"{b}.attn_k.bias", normal(kv_dim, std=0.5))
            w.add_tensor(f"{b}.attn_v.bias", normal(kv_dim, std=0.5))
        if spec.get("qk_norm"):
            w.add_tensor(f"{b}.attn_q_norm.weight", norm_weight(kd, 1.5))
            w.add_tensor(f"{b}.attn_k_norm.weight", norm_weight(kd))
        if gemma:
            w.add_tensor(f"{b}.post_attention_norm.weight", norm_weight(HIDDEN, post))
            w.add_tensor(f"{b}.post_ffw_norm.weight", norm_weight(HIDDEN, post))

    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    json.dump({"path": args.out, "arch": args.arch, "vocab": VOCAB, "layers": layers}, sys.stdout)
    print()


def run(args):
    import llama_cpp

    prompt = [int(t) for t in args.tokens.split(",") if t]
    llm = llama_cpp.Llama(
        model_path=args.model,
        n_ctx=max(512, len(prompt) + args.steps + 8),
        n_batch=max(512, len(prompt)),
        n_ubatch=max(512, len(prompt)),
        n_threads=2,
        n_threads_batch=2,
        seed=1234,  # unused (no sampler), fixed anyway
        use_mmap=False,  # the file may have been written a moment ago
        type_k=KV_TYPES[args.kv],
        type_v=KV_TYPES[args.kv],
        flash_attn=False,
        verbose=False,
    )
    n_vocab = llm.n_vocab()

    def last_logits():
        ptr = llm._ctx.get_logits_ith(-1)
        return np.ctypeslib.as_array(ptr, shape=(n_vocab,)).astype(np.float32).copy()

    # The prompt in one batch, then one token per decode, as our test feeds ours.
    llm.eval(prompt)
    tokens, top, ranges, first = [], [], [], None
    for step in range(args.steps):
        logits = last_logits()
        if step == 0 and n_vocab <= 4096:
            first = [float(x) for x in logits]
        order = np.argsort(-logits, kind="stable")[: args.top]
        top.append([[int(i), float(logits[i])] for i in order])
        ranges.append(float(logits.max() - logits.min()))
        nxt = int(order[0])
        tokens.append(nxt)
        if step + 1 < args.steps:
            llm.eval([nxt])
    json.dump({"tokens": tokens, "top": top, "range": ranges, "first_logits": first}, sys.stdout)
    print()


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="cmd", required=True)
    t = sub.add_parser("tiny", help="write a small random-weight GGUF")
    t.add_argument("--arch", required=True, choices=sorted(ARCHS))
    t.add_argument("--out", required=True)
    t.add_argument("--seed", type=int, default=0)
    t.add_argument("--type", choices=[q.name for q in [T.F32, *TYPES]],
                   help="one block type for every layer matrix (to locate a disagreement)")
    r = sub.add_parser("run", help="greedy-decode a GGUF with llama.cpp")
    r.add_argument("--model", required=True)
    r.add_argument("--tokens", required=True, help="comma-separated prompt token ids")
    r.add_argument("--steps", type=int, default=32)
    r.add_argument("--top", type=int, default=64)
    r.add_argument("--kv", choices=["f32", "f16"], default="f32",
                   help="KV cache type (llama.cpp's default is f16)")
    args = p.parse_args()
    {"tiny": tiny, "run": run}[args.cmd](args)


if __name__ == "__main__":
    main()
