#!/usr/bin/env python3
"""PyTorch CPU reference for bench/train.ts: the same Qwen2 / Llama architecture at the same shape.

Qwen2 block (Llama: the same without Q/K/V bias, `--no-qkv-bias`): RMSNorm -> attention (Q/K/V
projections with bias, output projection without,
rotary embeddings in the rotate-half layout, grouped-query attention, causal) -> residual ->
RMSNorm -> SwiGLU MLP (gate, up, down; no bias) -> residual; final RMSNorm; the output head is
the token embedding (tied). F32 throughout (or bfloat16 with `--dtype bfloat16`), random weights
(the timing does not depend on them).

Work per step matches mfner's trainer: one sequence of `--seq` tokens, labels on the second half
(rows seq/2 .. seq-2), logits computed only for labelled rows (mfner's llama_opt_step computes
only those), mean cross-entropy over them, backward, one AdamW step (betas 0.9/0.999, eps 1e-8,
lr 1e-5, no weight decay: mfner's defaults).

  lora: rank/alpha on attn_q, attn_k, attn_v, attn_output, ffn_gate, ffn_up, ffn_down of every
        block (mfner's default targets), A ~ U(-1/sqrt(in), 1/sqrt(in)), B = 0, dropout off;
        base weights frozen.
  full: every parameter trained (embedding/tied head, norms, biases included).

Prints one JSON line: {"method", "trainTokS", "forwardTokS", "msPerStep", "peakMiB",
"trainable", "threads", "torch"}. Forward-only timing is a loss computation under no_grad.

  python3 bench/train_reference.py --method lora --layers 2 --steps 3 --threads 2 --seq 256
"""
import argparse
import json
import math
import resource
import time

import torch
import torch.nn.functional as F


class RMSNorm(torch.nn.Module):
    def __init__(self, width, eps):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(width))
        self.eps = eps

    def forward(self, x):
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + self.eps) * self.weight


class LoRALinear(torch.nn.Module):
    """y = x W^T (+ b) + (alpha / r) * (x A^T) B^T, with W (and b) frozen."""

    def __init__(self, base, rank, alpha):
        super().__init__()
        self.base = base
        for p in base.parameters():
            p.requires_grad_(False)
        bound = 1.0 / math.sqrt(base.in_features)
        dtype = base.weight.dtype  # bfloat16 runs keep the adapter in the base's type
        self.lora_a = torch.nn.Parameter(torch.empty(rank, base.in_features, dtype=dtype).uniform_(-bound, bound))
        self.lora_b = torch.nn.Parameter(torch.zeros(base.out_features, rank, dtype=dtype))
        self.scale = alpha / rank

    def forward(self, x):
        return self.base(x) + F.linear(F.linear(x, self.lora_a), self.lora_b) * self.scale


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


class Attention(torch.nn.Module):
    def __init__(self, width, heads, kv_heads, qkv_bias):
        super().__init__()
        self.heads, self.kv_heads, self.dim = heads, kv_heads, width // heads
        self.q = torch.nn.Linear(width, heads * self.dim, bias=qkv_bias)
        self.k = torch.nn.Linear(width, kv_heads * self.dim, bias=qkv_bias)
        self.v = torch.nn.Linear(width, kv_heads * self.dim, bias=qkv_bias)
        self.o = torch.nn.Linear(heads * self.dim, width, bias=False)

    def forward(self, x, cos, sin, mask):
        n = x.shape[0]
        q = self.q(x).view(n, self.heads, self.dim).transpose(0, 1)
        k = self.k(x).view(n, self.kv_heads, self.dim).transpose(0, 1)
        v = self.v(x).view(n, self.kv_heads, self.dim).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin
        group = self.heads // self.kv_heads
        k = k.repeat_interleave(group, dim=0)
        v = v.repeat_interleave(group, dim=0)
        scores = (q @ k.transpose(1, 2)) / math.sqrt(self.dim) + mask
        out = torch.softmax(scores, dim=-1) @ v
        return self.o(out.transpose(0, 1).reshape(n, self.heads * self.dim))


class MLP(torch.nn.Module):
    def __init__(self, width, ffn):
        super().__init__()
        self.gate = torch.nn.Linear(width, ffn, bias=False)
        self.up = torch.nn.Linear(width, ffn, bias=False)
        self.down = torch.nn.Linear(ffn, width, bias=False)

    def forward(self, x):
        return self.down(F.silu(self.gate(x)) * self.up(x))


class Block(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        self.attn_norm = RMSNorm(a.width, a.eps)
        self.attn = Attention(a.width, a.heads, a.kv_heads, a.qkv_bias)
        self.ffn_norm = RMSNorm(a.width, a.eps)
        self.mlp = MLP(a.width, a.ffn)

    def forward(self, x, cos, sin, mask):
        x = x + self.attn(self.attn_norm(x), cos, sin, mask)
        return x + self.mlp(self.ffn_norm(x))


class Qwen2(torch.nn.Module):
    def __init__(self, a):
        super().__init__()
        self.embed = torch.nn.Embedding(a.vocab, a.width)
        self.blocks = torch.nn.ModuleList(Block(a) for _ in range(a.layers))
        self.norm = RMSNorm(a.width, a.eps)
        dim = a.width // a.heads
        inv = 1.0 / (a.rope_theta ** (torch.arange(0, dim, 2, dtype=torch.float64) / dim))
        angles = torch.outer(torch.arange(a.seq, dtype=torch.float64), inv)
        angles = torch.cat((angles, angles), dim=-1)
        self.register_buffer('cos', angles.cos().float(), persistent=False)
        self.register_buffer('sin', angles.sin().float(), persistent=False)
        self.register_buffer('mask', torch.full((a.seq, a.seq), float('-inf')).triu(1), persistent=False)

    def loss(self, tokens, labels):
        n = tokens.shape[0]
        x = self.embed(tokens)
        cos, sin, mask = self.cos[:n], self.sin[:n], self.mask[:n, :n]
        for block in self.blocks:
            x = block(x, cos, sin, mask)
        rows = labels >= 0
        h = self.norm(x[rows])
        logits = F.linear(h, self.embed.weight)  # tied head
        return F.cross_entropy(logits, labels[rows])


def main():
    p = argparse.ArgumentParser()
    p.add_argument('--method', choices=['lora', 'full'], required=True)
    p.add_argument('--layers', type=int, default=2)
    p.add_argument('--steps', type=int, default=3)
    p.add_argument('--threads', type=int, default=2)
    p.add_argument('--seq', type=int, default=256)
    p.add_argument('--rank', type=int, default=16)
    p.add_argument('--alpha', type=float, default=32)
    p.add_argument('--width', type=int, default=896)
    p.add_argument('--heads', type=int, default=14)
    p.add_argument('--kv-heads', dest='kv_heads', type=int, default=2)
    p.add_argument('--ffn', type=int, default=4864)
    p.add_argument('--vocab', type=int, default=151936)
    p.add_argument('--rope-theta', dest='rope_theta', type=float, default=1e6)
    p.add_argument('--eps', type=float, default=1e-6)
    p.add_argument('--no-qkv-bias', dest='qkv_bias', action='store_false')
    p.add_argument('--dtype', choices=['float32', 'bfloat16'], default='float32',
                   help='bfloat16: weights, activations, adapter and optimizer in bfloat16 (pure bf16 training)')
    a = p.parse_args()

    torch.set_num_threads(a.threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:
        pass
    torch.manual_seed(7)
    model = Qwen2(a)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if param.dim() == 2:
                param.normal_(0.0, 0.02)
            elif name.endswith('.bias'):
                param.zero_()
    model = model.to(getattr(torch, a.dtype))
    if a.method == 'lora':
        for param in model.parameters():
            param.requires_grad_(False)
        for block in model.blocks:
            for owner, names in ((block.attn, ('q', 'k', 'v', 'o')), (block.mlp, ('gate', 'up', 'down'))):
                for name in names:
                    setattr(owner, name, LoRALinear(getattr(owner, name), a.rank, a.alpha))
    params = [q for q in model.parameters() if q.requires_grad]
    trainable = sum(q.numel() for q in params)
    opt = torch.optim.AdamW(params, lr=1e-5, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.0)

    gen = torch.Generator().manual_seed(12345)

    def batch():
        tokens = torch.randint(1, a.vocab - 1999, (a.seq,), generator=gen)  # as bench/train.ts: 1 .. vocab-2000
        labels = torch.full((a.seq,), -1, dtype=torch.long)
        labels[a.seq // 2:a.seq - 1] = tokens[a.seq // 2 + 1:]
        return tokens, labels

    def train_step(tokens, labels):
        opt.zero_grad(set_to_none=True)
        loss = model.loss(tokens, labels)
        loss.backward()
        opt.step()
        return loss.item()

    train_step(*batch())  # warm-up (allocations, optimizer state)
    train = forward = 0.0
    for _ in range(a.steps):
        tokens, labels = batch()
        t0 = time.perf_counter()
        with torch.no_grad():
            model.loss(tokens, labels).item()
        forward += time.perf_counter() - t0
        t0 = time.perf_counter()
        train_step(tokens, labels)
        train += time.perf_counter() - t0

    print(json.dumps({
        'method': a.method,
        'dtype': a.dtype,
        'trainTokS': a.seq * a.steps / train,
        'forwardTokS': a.seq * a.steps / forward,
        'msPerStep': 1000 * train / a.steps,
        'peakMiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        'trainable': trainable,
        'threads': torch.get_num_threads(),
        'torch': torch.__version__,
    }))


if __name__ == '__main__':
    main()
