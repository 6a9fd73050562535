#!/usr/bin/env python3
"""PyTorch twin of src/train/model.ts (the tiny DeepSeek-V3 r1ts trains), for a CPU training-speed comparison.

Usage: python3 tools/torch_tiny_v3.py BENCH.json [THREADS]   (tools/bench_train.ts writes the file)

BENCH.json: {config: TinyConfig (camelCase, as in a recipe's "model"), batches: [{ids, targets, mask, B, T}],
steps, lr} plus optional fields the bench fills in so both engines do the same update:
  lrs    per-batch learning rates (the trainer's warmup/cosine schedule); default: lr for every step
  optim  {beta1, beta2, eps, weightDecay, clip, biasGamma, seqAux}
  init   {param name: flat list} initial weights (r1ts's, so the first losses can be compared exactly);
         without it the script draws its own init with the same scheme as TinyV3's constructor.
Prints one JSON line: {tokensPerS, stepMs, params, lossFirst, lossLast, ...}. Steps after the first 2 are timed.

The math follows model.ts op for op: naive MLA (K and V expanded from the latent), interleaved RoPE with the
tables of src/models/layers/rope.ts, a dense SwiGLU first layer, DeepSeekMoE with a shared expert and routed
experts chosen by top-k of sigmoid(logit) + selection bias, masked mean cross-entropy. FP32 throughout.
"""

import json
import math
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F


class RMSNorm(nn.Module):
    def __init__(self, dim, eps):
        super().__init__()
        self.weight = nn.Parameter(torch.ones(dim))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class MLP(nn.Module):
    """SwiGLU: down(silu(gate(x)) * up(x))."""

    def __init__(self, hidden, inter):
        super().__init__()
        self.gate_proj = nn.Linear(hidden, inter, bias=False)
        self.up_proj = nn.Linear(hidden, inter, bias=False)
        self.down_proj = nn.Linear(inter, hidden, bias=False)

    def forward(self, x):
        return self.down_proj(F.silu(self.gate_proj(x)) * self.up_proj(x))


def rope_tables(c, T):
    """cos/sin [T, rope/2] as ropeTables + ropeAngles compute them: inverse frequencies in f64 rounded to f32,
    angles pos * invFreq in f32, cos/sin of that f32 angle (no scaling: magnitude 1)."""
    rd = c["qkRopeDim"]
    inv = 1.0 / (c["ropeTheta"] ** (torch.arange(0, rd, 2, dtype=torch.float64) / rd))
    ang = torch.arange(T, dtype=torch.float32)[:, None] * inv.float()[None, :]
    return torch.cos(ang.double()).float(), torch.sin(ang.double()).float()


def rope(x, cos, sin):
    """Interleaved pairs (2i, 2i+1) rotated: x [B, T, heads, rope], cos/sin [T, rope/2]."""
    x0, x1 = x[..., 0::2], x[..., 1::2]
    c, s = cos[:, None, :], sin[:, None, :]
    return torch.stack([x0 * c - x1 * s, x0 * s + x1 * c], dim=-1).flatten(-2)


class MLA(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        H, D = c["nHeads"], c["hidden"]
        qk = c["qkNopeDim"] + c["qkRopeDim"]
        self.q_a_proj = nn.Linear(D, c["qLoraRank"], bias=False)
        self.q_a_layernorm = RMSNorm(c["qLoraRank"], c["rmsEps"])
        self.q_b_proj = nn.Linear(c["qLoraRank"], H * qk, bias=False)
        self.kv_a_proj_with_mqa = nn.Linear(D, c["kvLoraRank"] + c["qkRopeDim"], bias=False)
        self.kv_a_layernorm = RMSNorm(c["kvLoraRank"], c["rmsEps"])
        self.kv_b_proj = nn.Linear(c["kvLoraRank"], H * (c["qkNopeDim"] + c["vHeadDim"]), bias=False)
        self.o_proj = nn.Linear(H * c["vHeadDim"], D, bias=False)

    def forward(self, h, cos, sin, causal):
        c = self.c
        B, T, _ = h.shape
        H, nope, rd, V, R = c["nHeads"], c["qkNopeDim"], c["qkRopeDim"], c["vHeadDim"], c["kvLoraRank"]
        q = self.q_b_proj(self.q_a_layernorm(self.q_a_proj(h))).view(B, T, H, nope + rd)
        q_nope, q_pe = q.split([nope, rd], dim=-1)
        lat, k_pe = self.kv_a_proj_with_mqa(h).split([R, rd], dim=-1)
        k_pe = rope(k_pe.unsqueeze(2), cos, sin)  # [B, T, 1, rope]: one rotary key shared by all heads (MQA)
        k_nope, v = self.kv_b_proj(self.kv_a_layernorm(lat)).view(B, T, H, nope + V).split([nope, V], dim=-1)
        q = torch.cat([q_nope, rope(q_pe, cos, sin)], dim=-1).transpose(1, 2)  # [B, H, T, qk]
        k = torch.cat([k_nope, k_pe.expand(B, T, H, rd)], dim=-1).transpose(1, 2)
        # Eager attention (Debian's torch 1.13 has no scaled_dot_product_attention); softmax in f32.
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(nope + rd)
        p = scores.masked_fill(~causal, float("-inf")).softmax(dim=-1)
        o = (p @ v.transpose(1, 2)).transpose(1, 2).reshape(B, T, H * V)
        return self.o_proj(o)


class MoE(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.c = c
        E = c["nRoutedExperts"]
        self.gate = nn.Linear(c["hidden"], E, bias=False)
        self.experts = nn.ModuleList(MLP(c["hidden"], c["moeIntermediate"]) for _ in range(E))
        if c["nSharedExperts"] > 0:
            self.shared_experts = MLP(c["hidden"], c["moeIntermediate"] * c["nSharedExperts"])
        # Selection-only bias (not a parameter: updated by +-gamma from the loads) and the loads since the update.
        self.register_buffer("e_score_correction_bias", torch.zeros(E))
        self.register_buffer("load", torch.zeros(E))
        self.aux = None

    def forward(self, x, seq_aux):
        c = self.c
        B, T, D = x.shape
        E, k = c["nRoutedExperts"], c["topK"]
        h = x.reshape(B * T, D)
        scores = self.gate(h).sigmoid()  # [N, E]
        with torch.no_grad():
            chosen = torch.topk(scores + self.e_score_correction_bias, k, dim=-1).indices  # [N, k]
            self.load += torch.bincount(chosen.flatten(), minlength=E).float()
        w = scores.gather(1, chosen)
        if c["normTopkProb"]:
            w = w / (w.sum(-1, keepdim=True) + 1e-20)
        w = w * c["routedScalingFactor"]
        out = torch.zeros_like(h)
        for e, expert in enumerate(self.experts):
            tok, slot = torch.where(chosen == e)  # rows routed to e and which of their k slots chose it
            if tok.numel() == 0:
                continue
            y = expert(h.index_select(0, tok)) * w[tok, slot].unsqueeze(-1)
            out = out.index_add(0, tok, y)
        self.aux = self.seq_balance(scores, chosen, B, T, seq_aux) if seq_aux else None
        if c["nSharedExperts"] > 0:
            out = out + self.shared_experts(h)
        return out.view(B, T, D)

    def seq_balance(self, scores, chosen, B, T, alpha):
        """V3's sequence-wise balance loss: alpha * mean_b sum_i f_i P_i (f from the choices, not differentiated)."""
        E, k = self.c["nRoutedExperts"], self.c["topK"]
        f = F.one_hot(chosen.view(B, T * k), E).sum(1).float() * (E / (k * T))  # [B, E]
        P = (scores / scores.sum(-1, keepdim=True)).view(B, T, E).mean(1)
        return alpha * (f * P).sum(-1).mean()


class Layer(nn.Module):
    def __init__(self, c, dense):
        super().__init__()
        self.input_layernorm = RMSNorm(c["hidden"], c["rmsEps"])
        self.self_attn = MLA(c)
        self.post_attention_layernorm = RMSNorm(c["hidden"], c["rmsEps"])
        self.mlp = MLP(c["hidden"], c["intermediate"]) if dense else MoE(c)

    def forward(self, x, cos, sin, causal, seq_aux):
        x = x + self.self_attn(self.input_layernorm(x), cos, sin, causal)
        h = self.post_attention_layernorm(x)
        return x + (self.mlp(h) if isinstance(self.mlp, MLP) else self.mlp(h, seq_aux))


class Body(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.embed_tokens = nn.Embedding(c["vocabSize"], c["hidden"])
        self.layers = nn.ModuleList(Layer(c, l < c["firstKDense"]) for l in range(c["nLayers"]))
        self.norm = RMSNorm(c["hidden"], c["rmsEps"])


class TinyV3(nn.Module):
    """Module tree laid out so named_parameters() are the HF tensor names TinyV3 (TS) uses."""

    def __init__(self, c):
        super().__init__()
        self.c = c
        self.model = Body(c)
        self.lm_head = nn.Linear(c["hidden"], c["vocabSize"], bias=False)
        self.moe = [l.mlp for l in self.model.layers if isinstance(l.mlp, MoE)]

    def init_like_ts(self):
        """The TS constructor's scheme: N(0, 0.02), output projections N(0, 0.02 / sqrt(2 L)), norms 1."""
        std = 0.02
        out_std = std / math.sqrt(2 * self.c["nLayers"])
        with torch.no_grad():
            for name, p in self.named_parameters():
                if "layernorm" in name or name.endswith("norm.weight"):
                    p.fill_(1.0)
                else:
                    p.normal_(0.0, out_std if ("o_proj" in name or "down_proj" in name) else std)
            if self.c.get("posInit"):
                self.positional_init(self.c["posInit"])

    def positional_init(self, kappa):
        """Same as TinyV3.positionalInit: a constant feature in dim 0 that rotary keys and queries read."""
        c = self.c
        R, nope, rd = c["kvLoraRank"], c["qkNopeDim"], c["qkRopeDim"]
        self.model.embed_tokens.weight[:, 0] = kappa
        for layer in self.model.layers:
            a = layer.self_attn
            signs = 0.25 - 0.5 * (torch.rand(rd) < 0.5).float()  # +-0.25 with equal odds
            a.kv_a_proj_with_mqa.weight[R : R + rd, 0] = signs
            a.q_a_proj.weight[0, 0] = 0.25
            for h in range(c["nHeads"]):
                a.q_b_proj.weight[h * (nope + rd) + nope : (h + 1) * (nope + rd), 0] = 0.8 * signs

    def load_flat(self, init):
        with torch.no_grad():
            for name, p in self.named_parameters():
                p.copy_(torch.tensor(init[name], dtype=torch.float32).view_as(p))

    def loss(self, ids, targets, mask, seq_aux=0.0):
        """Masked mean next-token cross-entropy over [B, T] (+ balance losses); returns (loss, ce value)."""
        B, T = ids.shape
        cos, sin = rope_tables(self.c, T)
        causal = torch.ones(T, T, dtype=torch.bool).tril()
        x = self.model.embed_tokens(ids)
        for layer in self.model.layers:
            x = layer(x, cos, sin, causal, seq_aux)
        logits = self.lm_head(self.model.norm(x)).view(B * T, -1)
        ce = F.cross_entropy(logits, targets.view(-1), reduction="none")
        m = mask.view(-1)
        loss = (ce * m).sum() / m.sum().clamp_min(1e-30)
        value = loss.item()
        for moe in self.moe:
            if moe.aux is not None:
                loss = loss + moe.aux
        return loss, value

    def update_bias(self, gamma):
        """Aux-loss-free balancing as updateBias: b += gamma * sign(mean load - load), then the loads reset."""
        with torch.no_grad():
            for moe in self.moe:
                if gamma > 0 and moe.load.sum() > 0:
                    moe.e_score_correction_bias += gamma * torch.sign(moe.load.mean() - moe.load)
                moe.load.zero_()


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: python3 tools/torch_tiny_v3.py BENCH.json [THREADS]")
    with open(sys.argv[1]) as f:
        job = json.load(f)
    torch.set_num_threads(int(sys.argv[2]) if len(sys.argv) == 3 else 1)
    torch.manual_seed(int(job.get("seed", 1)))
    c = job["config"]
    o = {"beta1": 0.9, "beta2": 0.95, "eps": 1e-8, "weightDecay": 0.1, "clip": 1.0, "biasGamma": 0.001, "seqAux": 0}
    o.update(job.get("optim", {}))
    model = TinyV3(c)
    if job.get("init"):
        model.load_flat(job["init"])
    else:
        model.init_like_ts()
    params = list(model.parameters())
    # Weight decay on matrices only, as AdamW.update in optim.ts (norm gains are not decayed).
    groups = [
        {"params": [p for p in params if p.dim() > 1], "weight_decay": o["weightDecay"]},
        {"params": [p for p in params if p.dim() <= 1], "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW(groups, lr=job["lr"], betas=(o["beta1"], o["beta2"]), eps=o["eps"])
    # Tensors are built before the clock starts (r1ts's batches are also prebuilt by the bench).
    batches = []
    for b in job["batches"]:
        shape = (b["B"], b["T"])
        ids = torch.tensor(b["ids"], dtype=torch.long).view(shape)
        tg = torch.tensor(b["targets"], dtype=torch.long).view(shape)
        batches.append((ids, tg, torch.tensor(b["mask"], dtype=torch.float32).view(shape), b["B"] * b["T"]))
    steps = min(int(job.get("steps", len(batches))), len(batches))
    lrs = job.get("lrs") or [job["lr"]] * steps
    warm = min(2, steps - 1)
    losses = []
    tokens = 0
    t0 = time.perf_counter()
    for s in range(steps):
        if s == warm:
            t0 = time.perf_counter()
            tokens = 0
        ids, tg, mask, n = batches[s]
        for g in opt.param_groups:
            g["lr"] = lrs[s]
        opt.zero_grad(set_to_none=False)
        loss, ce = model.loss(ids, tg, mask, o["seqAux"])
        loss.backward()
        torch.nn.utils.clip_grad_norm_(params, o["clip"])
        opt.step()
        model.update_bias(o["biasGamma"])
        losses.append(ce)
        tokens += n
    sec = time.perf_counter() - t0
    timed = steps - warm
    out = {
        "tokensPerS": tokens / sec,
        "stepMs": 1000 * sec / timed,
        "params": sum(p.numel() for p in params),
        "lossFirst": losses[0],
        "lossLast": losses[-1],
        "losses": losses,
        "timedSteps": timed,
        "threads": torch.get_num_threads(),
        "torch": torch.__version__,
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
