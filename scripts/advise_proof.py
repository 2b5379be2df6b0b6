"""The proof of issue 30 on models nobody here wrote: sigprop.advise names a fix for a deep model,
its race trains the model as built and the top fixes (sigprop.apply on fresh copies) on the same
batches, and a reference model trains on them too. Writes OUT/<case>.json and OUT/<case>.png.

  .venv/bin/python scripts/advise_proof.py CASE OUT [--steps N] [--depth L]

cases (random weights from the config classes; nothing is downloaded):
  gpt2-post-norm  transformers' GPT-2, its norms moved after the residual adds (as the original
                  Transformer has them), depth 48, width 64, 4 heads, on KJV characters (T 64,
                  batch 16); reference: the same GPT-2 as transformers builds it (pre-norm)
  llama           transformers' LLaMA (RMSNorm, RoPE, SwiGLU, GQA 4/2), depth 64, width 64, on
                  KJV characters; reference: the model as built
  vit             transformers' ViT, depth 48, width 64, 4 heads, patches 7×7 of Fashion-MNIST
                  (16 tokens + CLS, batch 32); reference: the model as built
AdamW at lr 1e-3 (the race's default), no dropout; the loss compared is the race's: the mean
training loss of the last tenth of the steps.
"""
import argparse
import gzip
import json
import math
import os
import time

import numpy as np
import torch
import torch.nn.functional as F

import sigprop

import transformers
from transformers.models.gpt2.modeling_gpt2 import GPT2Block

transformers.logging.set_verbosity_error()
VOCAB, T, WIDTH, HEADS = 63, 64, 64, 4


class PostNormGPT2Block(GPT2Block):
    """GPT-2's block with LN after each residual add: x ← LN(x + f(x))."""

    def forward(self, hidden_states, cache=None, attention_mask=None, *args, use_cache=False, **kw):
        a, _ = self.attn(hidden_states, cache=cache, attention_mask=attention_mask,
                         use_cache=use_cache, **kw)
        h = self.ln_1(hidden_states + a)
        return self.ln_2(h + self.mlp(h))


def gpt2(depth, post_norm):
    cfg = transformers.GPT2Config(vocab_size=VOCAB, n_positions=T, n_embd=WIDTH, n_layer=depth,
                                  n_head=HEADS, resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0,
                                  bos_token_id=0, eos_token_id=0)
    model = transformers.GPT2LMHeadModel._from_config(cfg, attn_implementation="sdpa")
    if post_norm:
        for block in model.transformer.h:
            block.__class__ = PostNormGPT2Block
    return model


def llama(depth):
    cfg = transformers.LlamaConfig(vocab_size=VOCAB, hidden_size=WIDTH, intermediate_size=4 * WIDTH,
                                   num_hidden_layers=depth, num_attention_heads=HEADS,
                                   num_key_value_heads=2, max_position_embeddings=T,
                                   bos_token_id=0, eos_token_id=0, pad_token_id=None)
    return transformers.LlamaForCausalLM._from_config(cfg, attn_implementation="sdpa")


def vit(depth):
    cfg = transformers.ViTConfig(image_size=28, patch_size=7, num_channels=1, hidden_size=WIDTH,
                                 num_hidden_layers=depth, num_attention_heads=HEADS,
                                 intermediate_size=4 * WIDTH, num_labels=10,
                                 hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0)
    return transformers.ViTForImageClassification._from_config(cfg, attn_implementation="sdpa")


def kjv(step, batch=16):
    x, y = sigprop.probe_batch("kjv", width=WIDTH, batch=batch, seq=T, seed=1000 + step)
    return {"input_ids": x}, y


def lm_loss(model, b):
    inputs, y = b
    return F.cross_entropy(model(**inputs).logits.reshape(-1, VOCAB), y.reshape(-1))


def fashion_mnist(root="/usr/share/datasets/fashion-mnist"):
    with gzip.open(os.path.join(root, "train-images-idx3-ubyte.gz")) as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 1, 28, 28)
    with gzip.open(os.path.join(root, "train-labels-idx1-ubyte.gz")) as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    x = torch.from_numpy(images.astype(np.float32) / 255.0)
    return (x - x.mean()) / x.std(), torch.from_numpy(labels.astype(np.int64))


def image_batches(batch=32):
    x, y = fashion_mnist()
    order = torch.randperm(len(y), generator=torch.Generator().manual_seed(0))

    def get(step):
        i = order[(step * batch) % len(y):][:batch]
        return {"pixel_values": x[i]}, y[i]
    return get


def class_loss(model, b):
    inputs, y = b
    return F.cross_entropy(model(**inputs).logits, y)


def train(make, steps, batches, loss):
    """The race's training (sigprop/advise.py _race): seed 0, AdamW lr 1e-3, the same batches."""
    torch.manual_seed(0)
    model = make()
    model.train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3)
    losses = []
    for step in range(steps):
        value = loss(model, batches(step))
        opt.zero_grad(set_to_none=True)
        value.backward()
        opt.step()
        losses.append(float(value.detach()))
    tail = losses[-max(1, steps // 10):]
    return {"val_loss": sum(tail) / len(tail), "losses": losses}


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("case", choices=["gpt2-post-norm", "llama", "vit"])
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=250)
    ap.add_argument("--depth", type=int, default=None)
    ap.add_argument("--replot", action="store_true", help="redraw OUT/CASE.png from OUT/CASE.json")
    args = ap.parse_args()
    if args.replot:
        with open(os.path.join(args.out, f"{args.case}.json")) as f:
            result = json.load(f)
        chance = math.log(10 if args.case == "vit" else VOCAB)
        return plot(result, chance, os.path.join(args.out, f"{args.case}.png"))
    os.makedirs(args.out, exist_ok=True)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    if args.case == "gpt2-post-norm":
        depth = args.depth or 48
        make, reference = (lambda: gpt2(depth, True)), (lambda: gpt2(depth, False))
        ref_name, batches, loss, chance = "pre-norm GPT-2", kjv, lm_loss, math.log(VOCAB)
    elif args.case == "llama":
        depth = args.depth or 64
        make, reference, ref_name = (lambda: llama(depth)), None, "as built"
        batches, loss, chance = kjv, lm_loss, math.log(VOCAB)
    else:
        depth = args.depth or 48
        make, reference, ref_name = (lambda: vit(depth)), None, "as built"
        batches, loss, chance = image_batches(), class_loss, math.log(10)
    inputs, target = batches(10 ** 6)  # the probe's batch, not one the race trains on
    start = time.time()
    advice = sigprop.advise(
        make, inputs, seeds=1, chance_loss=chance,
        loss=lambda out: F.cross_entropy(out.logits.reshape(-1, out.logits.shape[-1]),
                                         target.reshape(-1)),
        train_steps=args.steps, batches=batches, train_loss=loss, confirm_top=3)
    seconds = time.time() - start
    data = advice.data
    fix = data["recommendation"]
    result = {"case": args.case, "depth": depth, "steps": args.steps, "recommendation": fix,
              "race_best": data["race"]["best"], "advise_seconds": round(seconds, 1),
              "skipped": data["skipped"],
              "ranking": [{"name": r["name"], "score": r["diagnosis"].get("score"),
                           "verdict": r["diagnosis"].get("verdict"),
                           "race": r.get("race")} for r in data["ranking"]],
              "as_built": {"verdict": data["model"]["diagnosis"]["verdict"],
                           "race": data["model"]["race"]}}
    if reference is not None:
        result["reference"] = {"name": ref_name, **train(reference, args.steps, batches, loss)}
    with open(os.path.join(args.out, f"{args.case}.json"), "w") as f:
        json.dump(result, f, indent=1)
    with open(os.path.join(args.out, f"{args.case}.txt"), "w") as f:
        f.write(str(advice) + "\n")
    plot(result, chance, os.path.join(args.out, f"{args.case}.png"))
    print(str(advice))
    print(f"advise (probes and race) took {seconds:.0f} s")
    raced = {"as built": result["as_built"]["race"]["val_loss"]}
    raced.update({r["name"]: r["race"]["val_loss"] for r in result["ranking"] if r.get("race")})
    if reference is not None:
        raced[f"reference: {ref_name}"] = result["reference"]["val_loss"]
    for name, value in raced.items():
        print(f"  {name:28s} final training loss {value:.4f}")


def plot(result, chance, path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    fig, ax = plt.subplots(figsize=(7, 4.2))
    curves = [("as built", result["as_built"]["race"]["losses"], "0.2")]
    curves += [(r["name"], r["race"]["losses"], None) for r in result["ranking"] if r.get("race")]
    if "reference" in result:
        curves.append((f"reference: {result['reference']['name']}", result["reference"]["losses"], "0.5"))
    for name, losses, colour in curves:
        smooth = np.convolve(losses, np.ones(10) / 10, mode="valid")
        ax.plot(np.arange(len(smooth)) + 10, smooth, label=name, color=colour,
                linestyle="--" if name.startswith("reference") else "-",
                linewidth=4 if name == "as built" else 1.5, alpha=0.45 if name == "as built" else 1)
    ax.axhline(chance, color="0.8", linewidth=0.8, label="chance (ln classes)")
    ax.set_xlabel("step")
    ax.set_ylabel("training loss (10-step mean)")
    ax.set_title(f"{result['case']}, depth {result['depth']}: the rule names "
                 f"{result['recommendation']}, the race {result['race_best']}", fontsize=10)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


if __name__ == "__main__":
    main()
