"""Building blocks shared by the learned networks: complex ↔ channels, a U-Net, CNN stacks.

Complex images (MRI) travel through the convolutions as two real channels (real, imag);
real images as one. Every network works at any image size (the U-Net pads to a multiple of
2^depth and crops back).
"""

from __future__ import annotations

import torch
from torch import nn


def to_channels(x: torch.Tensor, complex_: bool) -> torch.Tensor:
    """(B, H, W) image → (B, C, H, W) real tensor, C = 2 for complex data, else 1."""
    if complex_:
        return torch.stack([x.real, x.imag], dim=1) if x.is_complex() else torch.stack(
            [x, torch.zeros_like(x)], dim=1)
    return (x.real if x.is_complex() else x).unsqueeze(1)


def from_channels(h: torch.Tensor, complex_: bool) -> torch.Tensor:
    """(B, C, H, W) → (B, H, W) image, complex when C = 2."""
    return torch.complex(h[:, 0], h[:, 1]) if complex_ else h[:, 0]


def batched(x: torch.Tensor, ndim: int) -> tuple[torch.Tensor, tuple[int, ...]]:
    """Flatten leading batch axes of an (..., *shape) tensor with ``ndim`` trailing axes."""
    lead = tuple(x.shape[: x.ndim - ndim])
    return x.reshape(-1, *x.shape[x.ndim - ndim:]), lead


def conv_stack(in_ch: int, out_ch: int, width: int, depth: int, kernel: int = 3) -> nn.Sequential:
    """depth conv layers (ReLU between), the last one linear: the CNN block of a cascade."""
    layers: list[nn.Module] = []
    ch = in_ch
    for _ in range(depth - 1):
        layers += [nn.Conv2d(ch, width, kernel, padding=kernel // 2), nn.ReLU(inplace=True)]
        ch = width
    layers.append(nn.Conv2d(ch, out_ch, kernel, padding=kernel // 2))
    return nn.Sequential(*layers)


class UNet(nn.Module):
    """Multiscale U-Net (Ronneberger et al. 2015; the FBPConvNet body): two 3×3 conv+ReLU per
    level, max-pooling down, transposed convolutions up, skip connections by concatenation."""

    def __init__(self, in_ch: int, out_ch: int, width: int = 16, depth: int = 3):
        super().__init__()
        self.depth = depth
        self.down = nn.ModuleList()
        ch = in_ch
        for level in range(depth + 1):
            w = width * 2**level
            self.down.append(nn.Sequential(
                nn.Conv2d(ch, w, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True)))
            ch = w
        self.up = nn.ModuleList()
        self.merge = nn.ModuleList()
        for level in reversed(range(depth)):
            w = width * 2**level
            self.up.append(nn.ConvTranspose2d(ch, w, 2, stride=2))
            self.merge.append(nn.Sequential(
                nn.Conv2d(2 * w, w, 3, padding=1), nn.ReLU(inplace=True),
                nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True)))
            ch = w
        self.head = nn.Conv2d(ch, out_ch, 1)

    def forward(self, h: torch.Tensor) -> torch.Tensor:
        H, W = h.shape[-2:]
        m = 2**self.depth
        ph, pw = (-H) % m, (-W) % m
        if ph or pw:
            mode = "reflect" if min(H, W) > m else "constant"
            h = nn.functional.pad(h, (0, pw, 0, ph), mode=mode)
        skips = []
        for level, block in enumerate(self.down):
            h = block(h)
            if level < self.depth:
                skips.append(h)
                h = nn.functional.max_pool2d(h, 2)
        for up, merge in zip(self.up, self.merge):
            h = merge(torch.cat([up(h), skips.pop()], dim=1))
        return self.head(h)[..., :H, :W]
