"""Weight-sharing supernet over the NAS-Bench-201 cell space.

The network follows NAS-Bench-201: a 3x3 stem convolution, three stages of
identical cells joined by residual reduction blocks, then global average
pooling and a linear classifier. Every cell uses the same architecture, an
int64 tensor of six operation indices, one per edge in the order
(1<-0), (2<-0), (2<-1), (3<-0), (3<-1), (3<-2).

Each edge contains the weights of every operation and runs only the chosen one.
The choice is a data-dependent branch on the architecture tensor, so a
module compiled with ``torch.jit.script`` exports it as ONNX ``If`` nodes and
the runtime computes only the selected branch.

Normalization uses the statistics of the current batch, in training and in
evaluation, as NAS-Bench-201's search code does with
``track_running_stats=False``. Running statistics shared by all subnets fit
none of them, so each subnet is normalized with its own batch statistics
instead. The price is that outputs depend on how images are batched, so the
evaluation batch size is part of the model's contract.
"""


import torch
from torch import Tensor, nn

OPS = ("none", "skip_connect", "nor_conv_1x1", "nor_conv_3x3", "avg_pool_3x3")
"""Operation names in the index order of NAS-Bench-201."""

EDGES = ((1, 0), (2, 0), (2, 1), (3, 0), (3, 1), (3, 2))
"""Cell edges as (to, from) node pairs, in architecture order."""


class BatchStatNorm(nn.Module):
    """Batch normalization that always normalizes with batch statistics.

    ``nn.BatchNorm2d(track_running_stats=False)`` does the same, but it does
    not export under ``torch.jit.script`` in torch 1.13, so the reduction is
    written out here. The variance is the biased one, as in batch norm.
    """

    def __init__(self, channels: int, eps: float = 1e-5):
        super().__init__()
        self.eps = eps
        self.weight = nn.Parameter(torch.ones(1, channels, 1, 1))
        self.bias = nn.Parameter(torch.zeros(1, channels, 1, 1))

    def forward(self, x: Tensor) -> Tensor:
        # Folding the statistics into one scale and shift per channel leaves
        # two passes over the activations (x * x, then x * scale + shift)
        # instead of five, which matters on CPU where these dominate.
        mean = x.mean(dim=[0, 2, 3], keepdim=True)
        mean_sq = (x * x).mean(dim=[0, 2, 3], keepdim=True)
        var = torch.clamp(mean_sq - mean * mean, min=0.0)
        scale = self.weight * torch.rsqrt(var + self.eps)
        return x * scale + (self.bias - mean * scale)


class ReLUConvNorm(nn.Module):
    """ReLU, convolution without bias, batch-statistics normalization."""

    def __init__(self, c_in: int, c_out: int, kernel: int, stride: int = 1):
        super().__init__()
        self.relu = nn.ReLU()
        self.conv = nn.Conv2d(
            c_in, c_out, kernel, stride=stride, padding=kernel // 2, bias=False
        )
        self.norm = BatchStatNorm(c_out)

    def forward(self, x: Tensor) -> Tensor:
        return self.norm(self.conv(self.relu(x)))


class EdgeChoice(nn.Module):
    """One cell edge: the weights of all five operations, one run per call."""

    def __init__(self, channels: int):
        super().__init__()
        self.conv1x1 = ReLUConvNorm(channels, channels, 1)
        self.conv3x3 = ReLUConvNorm(channels, channels, 3)
        self.pool = nn.AvgPool2d(3, stride=1, padding=1, count_include_pad=False)

    def forward(self, x: Tensor, op: Tensor) -> Tensor:
        """Apply the operation with index ``op`` to ``x``."""
        # Each comparison becomes an ONNX If node after scripting.
        if bool(op == 3):
            return self.conv3x3(x)
        elif bool(op == 2):
            return self.conv1x1(x)
        elif bool(op == 1):
            return x
        elif bool(op == 4):
            return self.pool(x)
        else:
            return torch.zeros_like(x)

    def accumulate(self, x: Tensor, op: Tensor, total: Tensor) -> Tensor:
        """Return ``total`` plus the operation with index ``op`` applied to ``x``.

        Adding inside each branch lets the branch's Add write the If output
        directly. With ``total + self(x, op)`` onnxruntime would copy ``x``
        out of a skip_connect branch and fill a zero tensor for none, which
        costs about as much as the additions themselves on small inputs.
        """
        if bool(op == 3):
            return total + self.conv3x3(x)
        elif bool(op == 2):
            return total + self.conv1x1(x)
        elif bool(op == 1):
            return total + x
        elif bool(op == 4):
            return total + self.pool(x)
        else:
            return total


class SearchCell(nn.Module):
    """A four-node NAS-Bench-201 cell; node j sums its incoming edges."""

    def __init__(self, channels: int):
        super().__init__()
        # One attribute per edge, named by its nodes, because TorchScript
        # indexes a ModuleList only with constants.
        self.e1_0 = EdgeChoice(channels)
        self.e2_0 = EdgeChoice(channels)
        self.e2_1 = EdgeChoice(channels)
        self.e3_0 = EdgeChoice(channels)
        self.e3_1 = EdgeChoice(channels)
        self.e3_2 = EdgeChoice(channels)

    def forward(self, x: Tensor, arch: Tensor) -> Tensor:
        n1 = self.e1_0(x, arch[0])
        n2 = self.e2_1.accumulate(n1, arch[2], self.e2_0(x, arch[1]))
        n3 = self.e3_0(x, arch[3])
        n3 = self.e3_1.accumulate(n1, arch[4], n3)
        return self.e3_2.accumulate(n2, arch[5], n3)


class ResidualReduction(nn.Module):
    """NAS-Bench-201's reduction block: a strided basic residual block."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv_a = ReLUConvNorm(c_in, c_out, 3, stride=2)
        self.conv_b = ReLUConvNorm(c_out, c_out, 3)
        self.shortcut = nn.Sequential(
            nn.AvgPool2d(2, stride=2),
            nn.Conv2d(c_in, c_out, 1, bias=False),
        )

    def forward(self, x: Tensor) -> Tensor:
        return self.shortcut(x) + self.conv_b(self.conv_a(x))


class Nb201Supernet(nn.Module):
    """NAS-Bench-201 network whose cells take the architecture as input.

    Args:
        channels: channels of the first stage; stages two and three double it.
        cells_per_stage: number of cells in each of the three stages.
        num_classes: size of the classifier output.
        in_channels: image channels (1 for grayscale).
    """

    def __init__(
        self,
        channels: int = 16,
        cells_per_stage: int = 5,
        num_classes: int = 10,
        in_channels: int = 1,
    ):
        super().__init__()
        self.config = {
            "channels": channels,
            "cells_per_stage": cells_per_stage,
            "num_classes": num_classes,
            "in_channels": in_channels,
        }
        self.stem = nn.Sequential(
            nn.Conv2d(in_channels, channels, 3, padding=1, bias=False),
            BatchStatNorm(channels),
        )
        c1, c2, c3 = channels, 2 * channels, 4 * channels
        self.stage1 = nn.ModuleList(SearchCell(c1) for _ in range(cells_per_stage))
        self.reduce1 = ResidualReduction(c1, c2)
        self.stage2 = nn.ModuleList(SearchCell(c2) for _ in range(cells_per_stage))
        self.reduce2 = ResidualReduction(c2, c3)
        self.stage3 = nn.ModuleList(SearchCell(c3) for _ in range(cells_per_stage))
        self.head_norm = BatchStatNorm(c3)
        self.head_relu = nn.ReLU()
        self.classifier = nn.Linear(c3, num_classes)

    def forward(self, images: Tensor, arch: Tensor) -> Tensor:
        x = self.stem(images)
        for cell in self.stage1:
            x = cell(x, arch)
        x = self.reduce1(x)
        for cell in self.stage2:
            x = cell(x, arch)
        x = self.reduce2(x)
        for cell in self.stage3:
            x = cell(x, arch)
        x = self.head_relu(self.head_norm(x))
        x = x.mean(dim=[2, 3])
        return self.classifier(x)


def arch_tensor(arch) -> Tensor:
    """Convert six operation names or indices to the int64 architecture."""
    if len(arch) != len(EDGES):
        raise ValueError(f"architecture has {len(arch)} operations; expected 6")
    indices = []
    for op in arch:
        if isinstance(op, str):
            if op not in OPS:
                raise ValueError(f"unknown operation {op!r}; expected one of {OPS}")
            indices.append(OPS.index(op))
        elif isinstance(op, int) and 0 <= op < len(OPS):
            indices.append(op)
        else:
            raise ValueError(f"invalid operation {op!r}; expected a name or 0-4")
    return torch.tensor(indices, dtype=torch.int64)


def format_arch(arch) -> str:
    """Format an architecture as NAS-Bench-201's cell string."""
    indices = arch_tensor(arch).tolist()
    groups = []
    edge = 0
    for to in range(1, 4):
        items = []
        for source in range(to):
            items.append(f"{OPS[indices[edge]]}~{source}")
            edge += 1
        groups.append("|" + "|".join(items) + "|")
    return "+".join(groups)
