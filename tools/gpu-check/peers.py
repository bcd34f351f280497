#!/usr/bin/env python3
"""The PyTorch peers of scripts/gpu-check: the training steps a user would run instead of ours, at the bench's B/16
shapes (or the tiny stand-in), with the same batch, precision and optimizer, timed the same way (median of the
measured steps after warm-up, the device synchronised at each step's end).

  vit    timm's VisionTransformer (vit_base_patch16_224 with global_pool='avg': our ViT baseline is timm's layout)
  crate  a plain PyTorch CRATE written below from the reference model (Ma-Lab-Berkeley/CRATE, model/crate.py), under
         its state_dict names (to_patch_embedding, transformer.layers.{i}.{0,1}, mlp_head) as in
         tools/fixtures/make_crate_fixture.py: MSSA with a shared qkv projection (fused attention), ISTA with one
         dictionary, step 0.1, lambda 0.1

Each step: forward, cross-entropy, backward, AdamW (lr 1e-4, weight decay 0.05); bf16 through torch.autocast. Where
PyTorch or timm is missing the peer is reported as skipped, with the reason; our step time is read from the bench's
--json (task vit, models crate and vit) and printed as a ratio of theirs.
"""
import argparse
import json
import os
import sys
import time

SHAPES = {
    "full": dict(image=224, patch=16, dim=768, depth=12, heads=12, classes=1000),
    "tiny": dict(image=32, patch=16, dim=64, depth=2, heads=4, classes=10),
}


def crate_model(torch, image, patch, dim, depth, heads, classes, channels=3, step_size=0.1, lambd=0.1):
    nn, F = torch.nn, torch.nn.functional

    class LayerNorm(nn.LayerNorm):
        # float32 statistics, as CUDA autocast gives layer_norm; torch 1.x's CPU autocast would pass bf16 through
        def forward(self, x):
            return super().forward(x.float())

    class PatchEmbedding(nn.Module):
        # to_patch_embedding: Rearrange('b c (h p1) (w p2) -> b (h w) (p1 p2 c)'), LayerNorm, Linear, LayerNorm
        def __init__(self):
            super().__init__()
            pd = patch * patch * channels
            self.layers = nn.ModuleList([nn.Identity(), LayerNorm(pd), nn.Linear(pd, dim), LayerNorm(dim)])

        def forward(self, x):
            b, c, h, w = x.shape
            x = x.reshape(b, c, h // patch, patch, w // patch, patch).permute(0, 2, 4, 3, 5, 1).reshape(b, -1, patch * patch * c)
            for layer in self.layers[1:]:
                x = layer(x)
            return x

    class PreNorm(nn.Module):
        def __init__(self, fn):
            super().__init__()
            self.norm, self.fn = LayerNorm(dim), fn

        def forward(self, x):
            return self.fn(self.norm(x))

    class Attention(nn.Module):   # MSSA: q = k = v = U x, per head
        def __init__(self):
            super().__init__()
            self.qkv = nn.Linear(dim, dim, bias=False)
            self.to_out = nn.Sequential(nn.Linear(dim, dim), nn.Dropout(0.0))

        def forward(self, x):
            b, n, _ = x.shape
            w = self.qkv(x).view(b, n, heads, dim // heads).transpose(1, 2)          # [B, K, n, p]
            if hasattr(F, "scaled_dot_product_attention"):   # torch >= 2.0: the fused kernels
                out = F.scaled_dot_product_attention(w, w, w)
            else:                                              # older torch: the reference's explicit form, in float32
                w = w.float()                                  # (torch 1.x's CPU autocast leaves matmul's inputs mixed)
                out = torch.softmax(w @ w.transpose(-1, -2) * (dim // heads) ** -0.5, dim=-1) @ w
            return self.to_out(out.transpose(1, 2).reshape(b, n, dim))

    class Ista(nn.Module):       # one proximal step of the sparse code in the dictionary D
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.empty(dim, dim))
            nn.init.kaiming_uniform_(self.weight)

        def forward(self, x):
            x1 = F.linear(x, self.weight)
            grad_1 = F.linear(x1, self.weight.t())
            grad_2 = F.linear(x, self.weight.t())
            return F.relu(x + step_size * (grad_2 - grad_1) - step_size * lambd)

    class Transformer(nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = nn.ModuleList([nn.ModuleList([PreNorm(Attention()), PreNorm(Ista())]) for _ in range(depth)])

        def forward(self, x):
            for attn, ff in self.layers:
                x = ff(attn(x) + x)
            return x

    class Crate(nn.Module):
        def __init__(self):
            super().__init__()
            n = (image // patch) ** 2
            self.to_patch_embedding = PatchEmbedding()
            self.pos_embedding = nn.Parameter(torch.randn(1, n + 1, dim))
            self.cls_token = nn.Parameter(torch.randn(1, 1, dim))
            self.transformer = Transformer()
            self.mlp_head = nn.Sequential(LayerNorm(dim), nn.Linear(dim, classes))

        def forward(self, img):
            x = self.to_patch_embedding(img)
            x = torch.cat([self.cls_token.expand(x.shape[0], -1, -1), x], dim=1) + self.pos_embedding
            return self.mlp_head(self.transformer(x)[:, 0])

    return Crate()


def vit_model(timm, image, patch, dim, depth, heads, classes):
    if (image, patch, dim, depth, heads) == (224, 16, 768, 12, 12):
        return timm.create_model("vit_base_patch16_224", pretrained=False, num_classes=classes, global_pool="avg")
    from timm.models.vision_transformer import VisionTransformer
    return VisionTransformer(img_size=image, patch_size=patch, embed_dim=dim, depth=depth, num_heads=heads,
                             num_classes=classes, global_pool="avg")


def time_steps(torch, model, shape, batch, precision, device, steps, warmup):
    model = model.to(device).train()
    opt = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.05)
    g = torch.Generator().manual_seed(1)
    images = torch.randn(batch, 3, shape["image"], shape["image"], generator=g).to(device)
    labels = torch.randint(0, shape["classes"], (batch,), generator=g).to(device)
    cuda = device.startswith("cuda")
    if cuda:
        torch.cuda.reset_peak_memory_stats()
    times, loss_value = [], float("nan")
    for i in range(warmup + steps):
        t0 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        with torch.autocast(device_type="cuda" if cuda else "cpu", dtype=torch.bfloat16, enabled=precision == "bf16"):
            loss = torch.nn.functional.cross_entropy(model(images), labels)
        loss.backward()
        opt.step()
        loss_value = loss.item()
        if cuda:
            torch.cuda.synchronize()
        if i >= warmup:
            times.append(time.perf_counter() - t0)
    times.sort()
    median = times[len(times) // 2]
    return {
        "median_ms": 1e3 * median, "min_ms": 1e3 * times[0], "max_ms": 1e3 * times[-1], "samples_per_second": batch / median,
        "parameters": sum(p.numel() for p in model.parameters() if p.requires_grad), "last_loss": loss_value,
        "peak_memory_allocated_mib": torch.cuda.max_memory_allocated() / 2 ** 20 if cuda else None,
    }


def our_rows(path):
    try:
        with open(path) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        return {}, f"no bench result ({e})"
    return {(r["model"], r["precision"]): r for r in doc.get("rows", []) if r.get("task") == "vit"}, None


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--device", default="cuda")
    ap.add_argument("--shapes", choices=sorted(SHAPES), default="full")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--precision", choices=["fp32", "bf16", "both"], default="both")
    ap.add_argument("--steps", type=int, default=10)
    ap.add_argument("--warmup", type=int, default=3)
    ap.add_argument("--threads", type=int, default=0, help="CPU threads (0: torch's default)")
    ap.add_argument("--ours", help="the bench's --json of the same shapes (task vit)")
    ap.add_argument("--json", help="write the results here")
    a = ap.parse_args()
    shape = SHAPES[a.shapes]
    precisions = ["fp32", "bf16"] if a.precision == "both" else [a.precision]
    doc = {"device": a.device, "shapes": a.shapes, "shape": shape, "batch": a.batch, "optimizer": "AdamW(lr 1e-4, wd 0.05)",
           "steps": a.steps, "warmup": a.warmup, "peers": []}
    errors = 0

    def record(peer, model, precision, **fields):
        row = {"peer": peer, "model": model, "precision": precision, **fields}
        doc["peers"].append(row)
        return row

    try:
        import torch
    except ImportError as e:
        torch, why = None, f"python3 has no PyTorch ({e}; {sys.executable} {sys.version.split()[0]})"
    if torch is not None:
        doc["torch"] = {"version": torch.__version__, "cuda": torch.version.cuda,
                        "gpu": torch.cuda.get_device_name(0) if torch.cuda.is_available() else None,
                        "tf32_matmul": torch.backends.cuda.matmul.allow_tf32}
        if a.device.startswith("cuda") and not torch.cuda.is_available():
            torch, why = None, f"PyTorch {doc['torch']['version']} sees no CUDA device"
        elif a.threads > 0:
            torch.set_num_threads(a.threads)
    try:
        import timm
        doc["timm"] = timm.__version__
    except ImportError as e:
        timm = None
        timm_why = f"timm is not installed ({e})"

    ours, ours_why = our_rows(a.ours) if a.ours else ({}, "no --ours given")
    print(f"PyTorch peers at {a.shapes} shapes {shape}, batch {a.batch}, {a.device}: "
          f"torch {doc.get('torch', {}).get('version', 'absent')}, timm {doc.get('timm', 'absent')}")
    for model, peer in (("crate", "plain PyTorch CRATE"), ("vit", "timm ViT")):
        for precision in precisions:
            if torch is None:
                row = record(peer, model, precision, status=f"skipped: {why}")
            elif model == "vit" and timm is None:
                row = record(peer, model, precision, status=f"skipped: {timm_why}")
            else:
                try:
                    torch.manual_seed(0)
                    net = crate_model(torch, **shape) if model == "crate" else vit_model(timm, **shape)
                    row = record(peer, model, precision, status="measured",
                                 **time_steps(torch, net, shape, a.batch, precision, a.device, a.steps, a.warmup))
                    del net
                    if a.device.startswith("cuda"):
                        torch.cuda.empty_cache()
                except Exception as e:   # an out-of-memory or a timm API change: report it, fail the step
                    errors += 1
                    row = record(peer, model, precision, status=f"error: {type(e).__name__}: {e}")
            mine = ours.get((model, precision))
            if mine is not None:
                row["ours_median_ms"] = mine["median_ms"]
                if row.get("median_ms"):
                    row["ours_over_theirs"] = mine["median_ms"] / row["median_ms"]
            line = f"  {peer:20} {precision}: "
            line += (f"{row['median_ms']:8.1f} ms/step, {row['samples_per_second']:8.1f} images/s"
                     + (f", peak {row['peak_memory_allocated_mib']:.0f} MiB allocated" if row.get("peak_memory_allocated_mib") else "")
                     if row["status"] == "measured" else row["status"])
            if mine is not None:
                line += f"; ours {mine['median_ms']:.1f} ms/step"
                line += f" = {row['ours_over_theirs']:.2f} x theirs" if "ours_over_theirs" in row else " (no ratio: theirs not measured)"
            elif ours_why or ours:
                line += f"; ours: {ours_why or 'no row for this model and precision'}"
            print(line)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(doc, f, indent=2)
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main())
