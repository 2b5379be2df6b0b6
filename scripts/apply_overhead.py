"""The cost of sigprop.apply's watch in training: one AdamW step of transformers' GPT-2 (6 layers,
width 384, T 128, batch 8, sdpa) with a fix against without (median of 8 steps after 2).

Usage: .venv/bin/python scripts/apply_overhead.py   (docs/python.md quotes what it printed)
"""
import time

import torch
import transformers as tf

import sigprop

tf.logging.set_verbosity_error()
torch.manual_seed(0)
def gpt2():
    torch.manual_seed(0)
    return tf.GPT2LMHeadModel._from_config(tf.GPT2Config(n_layer=6, n_embd=384, n_head=6, n_positions=128, vocab_size=1000), attn_implementation="sdpa")
ids = torch.randint(0, 1000, (8, 128))
def step_time(m, n=8):
    opt = torch.optim.AdamW(m.parameters(), lr=1e-4)
    ts = []
    for i in range(n + 2):
        t = time.perf_counter()
        loss = m(input_ids=ids, labels=ids).loss
        opt.zero_grad(); loss.backward(); opt.step()
        ts.append(time.perf_counter() - t)
    return sorted(ts[2:])[len(ts[2:]) // 2]
base = step_time(gpt2())
for fix in ("layerscale", "qk_norm", "shaped"):
    f = step_time(sigprop.apply(gpt2(), fix))
    print(f"{fix}: {f*1e3:.0f} ms vs plain {base*1e3:.0f} ms: {f/base:.2f}x")
