#!/usr/bin/env python3
"""PyTorch twin of analognas's ResNet-20 for `analognas bench train` (same-run references).

Usage: torch_resnet.py THREADS STEPS INFER_PASSES [BATCH] [INFER_BATCH]

The network is analognas's `resnet20` reference on 3x32x32 inputs: a 3x3 stem of 16 channels,
three stages of three basic blocks (16, 32, 64 channels; stride 2 at the first block of stages 2
and 3, where a 1x1 projection with batch norm is the shortcut), global average pooling and a
linear head (272,474 parameters). Training is SGD with momentum 0.9 and weight decay 5e-4 on one
random batch, as in the Rust benchmark:

- digital: the plain step;
- hardware-aware: every conv and linear weight perturbed in each forward by
  `0.06 * max|W| * N(0, 1)` (scale detached) and each weight clipped to 2.5 standard deviations
  after the step (analognas's default `[training]`).

Prints one JSON object: train_img_s, hwa_img_s, infer_img_s, torch version, threads, params.
"""
import json
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

NOISE = 0.06
CLIP_SIGMAS = 2.5
WARMUP = 6


class NoisyConv(nn.Conv2d):
    noisy = False

    def forward(self, x):
        w = self.weight
        if NoisyConv.noisy:
            w = w + torch.randn_like(w) * (NOISE * w.detach().abs().max())
        return F.conv2d(x, w, None, self.stride, self.padding)


class NoisyLinear(nn.Linear):
    def forward(self, x):
        w = self.weight
        if NoisyConv.noisy:
            w = w + torch.randn_like(w) * (NOISE * w.detach().abs().max())
        return F.linear(x, w, self.bias)


def conv_bn(cin, cout, k, stride):
    return nn.Sequential(NoisyConv(cin, cout, k, stride, k // 2, bias=False), nn.BatchNorm2d(cout))


class Block(nn.Module):
    def __init__(self, cin, cout, stride):
        super().__init__()
        self.a = conv_bn(cin, cout, 3, stride)
        self.b = conv_bn(cout, cout, 3, 1)
        self.short = conv_bn(cin, cout, 1, stride) if (stride != 1 or cin != cout) else None

    def forward(self, x):
        y = self.b(F.relu(self.a(x)))
        return F.relu(y + (x if self.short is None else self.short(x)))


class ResNet20(nn.Module):
    def __init__(self):
        super().__init__()
        self.stem = conv_bn(3, 16, 3, 1)
        blocks, cin = [], 16
        for i, c in enumerate([16, 32, 64]):
            for j in range(3):
                blocks.append(Block(cin, c, 2 if (i > 0 and j == 0) else 1))
                cin = c
        self.blocks = nn.Sequential(*blocks)
        self.head = NoisyLinear(64, 10)

    def forward(self, x):
        x = self.blocks(F.relu(self.stem(x)))
        return self.head(x.mean((2, 3)))


def clip(model):
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (NoisyConv, NoisyLinear)):
                b = CLIP_SIGMAS * m.weight.std(unbiased=False)
                m.weight.clamp_(-b, b)


def train_rate(model, x, y, steps, hwa):
    opt = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9, weight_decay=5e-4)
    NoisyConv.noisy = hwa
    model.train()
    # PyTorch's first few steps are slow (oneDNN primitive creation): WARMUP untimed steps.
    for s in range(steps + WARMUP):
        if s == WARMUP:
            t0 = time.perf_counter()
        opt.zero_grad()
        loss = F.cross_entropy(model(x), y)
        loss.item()
        loss.backward()
        opt.step()
        if hwa:
            clip(model)
    NoisyConv.noisy = False
    return steps * x.shape[0] / (time.perf_counter() - t0)


def main():
    threads, steps, passes = (int(a) for a in sys.argv[1:4])
    batch = int(sys.argv[4]) if len(sys.argv) > 4 else 64
    infer_batch = int(sys.argv[5]) if len(sys.argv) > 5 else 256
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = ResNet20()
    x = torch.randn(batch, 3, 32, 32)
    y = torch.arange(batch) % 10
    digital = train_rate(model, x, y, steps, False)
    hwa = train_rate(model, x, y, steps, True)
    model.eval()
    xi = torch.randn(infer_batch, 3, 32, 32)
    with torch.inference_mode():
        for _ in range(3):
            model(xi)
        t0 = time.perf_counter()
        for _ in range(passes):
            model(xi)
        infer = passes * infer_batch / (time.perf_counter() - t0)
    print(json.dumps({
        "train_img_s": digital,
        "hwa_img_s": hwa,
        "infer_img_s": infer,
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "params": sum(p.numel() for p in model.parameters()),
    }))


if __name__ == "__main__":
    main()
