"""sigprop.probe of the model families people train, at depth 48, from their own libraries.

Usage: .venv/bin/python scripts/probe_models.py [OUT_DIR] [DEPTH]
Builds each family from its configuration class with random weights (nothing downloaded; width
128, 4 heads, 48 blocks by default), probes it with nothing but the model and a batch of 4
sequences of 64 tokens (ViTs: 4 images of 32 × 32, patches of 4, 65 tokens), writes
OUT_DIR/probe-<family>.png (result.plot) and OUT_DIR/probe-models.csv, and prints one line per
family: final-layer cosine, |∇W_Q|/|∇W_V| at the first and last block, the last block's
attention entropy, and where its A was taken. docs/python.md shows what it printed.
"""
import csv
import os
import sys
import time

import torch
from torch import nn

import sigprop

D, H, B, T = 128, 4, 4, 64


def transformers_model(family, depth):
    import transformers as tf
    tf.logging.set_verbosity_error()
    lm = dict(hidden_size=D, intermediate_size=4 * D, num_hidden_layers=depth,
              num_attention_heads=H, vocab_size=1000, max_position_embeddings=T)
    ids = {"input_ids": torch.randint(0, 1000, (B, T))}
    config, cls = {
        "GPT-2": (lambda: tf.GPT2Config(n_embd=D, n_layer=depth, n_head=H, vocab_size=1000,
                                        n_positions=T), tf.GPT2LMHeadModel),
        "GPT-NeoX": (lambda: tf.GPTNeoXConfig(hidden_size=D, num_hidden_layers=depth,
                                              num_attention_heads=H, intermediate_size=4 * D,
                                              vocab_size=1000), tf.GPTNeoXForCausalLM),
        "LLaMA (GQA 4:2)": (lambda: tf.LlamaConfig(**lm, num_key_value_heads=2), tf.LlamaForCausalLM),
        "Mistral (window 16)": (lambda: tf.MistralConfig(**lm, num_key_value_heads=2, sliding_window=16),
                                tf.MistralForCausalLM),
        "Qwen3 (QK-norm)": (lambda: tf.Qwen3Config(**lm, num_key_value_heads=2, head_dim=D // H),
                            tf.Qwen3ForCausalLM),
        "Gemma 2 (soft-cap)": (lambda: tf.Gemma2Config(**lm, num_key_value_heads=2, head_dim=D // H),
                               tf.Gemma2ForCausalLM),
        "BERT (post-norm)": (lambda: tf.BertConfig(hidden_size=D, num_hidden_layers=depth,
                                                   num_attention_heads=H, intermediate_size=4 * D,
                                                   vocab_size=1000), tf.BertModel),
        "ViT": (lambda: tf.ViTConfig(hidden_size=D, num_hidden_layers=depth, num_attention_heads=H,
                                     intermediate_size=4 * D, image_size=32, patch_size=4),
                tf.ViTModel),
    }[family]
    model = cls(config())
    if family == "ViT":
        return model, {"pixel_values": torch.randn(B, 3, 32, 32)}
    if family.startswith("BERT"):
        mask = torch.ones(B, T, dtype=torch.long)
        mask[1:, -16:] = 0  # three of the four sequences padded by 16 tokens
        ids["attention_mask"] = mask
    return model, ids


def other_model(family, depth):
    if family == "timm ViT":
        import timm
        model = timm.create_model("vit_small_patch16_224", pretrained=False, img_size=32,
                                  patch_size=4, embed_dim=D, num_heads=H, depth=depth,
                                  num_classes=10)
        return model, torch.randn(B, 3, 32, 32)
    layer = nn.TransformerEncoderLayer(D, H, 4 * D, batch_first=True,
                                       norm_first=family.endswith("norm_first"))
    return nn.TransformerEncoder(layer, depth, enable_nested_tensor=False), torch.randn(B, T, D)


FAMILIES = ["GPT-2", "GPT-NeoX", "LLaMA (GQA 4:2)", "Mistral (window 16)", "Qwen3 (QK-norm)",
            "Gemma 2 (soft-cap)", "BERT (post-norm)", "ViT", "timm ViT",
            "nn.TransformerEncoder post-norm", "nn.TransformerEncoder norm_first"]


def main(out, depth):
    os.makedirs(out, exist_ok=True)
    lines = []
    for family in FAMILIES:
        torch.manual_seed(0)
        model, inputs = (other_model if family.startswith(("timm", "nn.")) else
                         transformers_model)(family, depth)
        t0 = time.perf_counter()
        result = sigprop.probe(model, inputs, name=family)
        seconds = time.perf_counter() - t0
        slug = "".join(c if c.isalnum() else "-" for c in family.lower()).strip("-")
        while "--" in slug:
            slug = slug.replace("--", "-")
        result.plot(os.path.join(out, f"probe-{slug}.png"))
        first, last = result.rows[1], result.rows[-1]
        sources = sorted({a["source"] for a in result.attention})
        line = {"family": family, "depth": depth, "final_cosine": f"{last['cosine']:.3f}",
                "grad_q_over_v_first": f"{first['grad_q_over_v']:.3g}",
                "grad_q_over_v_last": f"{last['grad_q_over_v']:.3g}",
                "entropy_last": f"{last['attn_entropy']:.3f}", "attention": "/".join(sources),
                "seconds": f"{seconds:.1f}"}
        lines.append(line)
        print(" | ".join(str(v) for v in line.values()), flush=True)
    with open(os.path.join(out, "probe-models.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(lines[0]))
        w.writeheader()
        w.writerows(lines)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "docs/figures/models",
         int(sys.argv[2]) if len(sys.argv) > 2 else 48)
