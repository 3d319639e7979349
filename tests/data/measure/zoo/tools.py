"""Whole-model totals of thop 0.1.1.post2209072238, ptflops 0.7.5 (pytorch backend), fvcore 0.1.5
and ptflops cf48e01 (2019) on Cadene's models and a Shawn1993-style TextCNN. One JSON line each.
torch 2.14.1 (CPU); the tools as probe.py beside this file runs them, the models as hooks.py builds
them (ptflops_cf48e01.py beside it: ../README.md).  For textcnn, RES is the number of token ids.
Pinned in tests/archs/test_{nasnet,polynet,textcnn}.py.
Usage: python tests/data/measure/zoo/tools.py MODEL RES   (MODEL as in hooks.py, or textcnn[:static])"""
import sys, json, time, io, contextlib
import torch, torch.nn as nn, torch.nn.functional as F
from hooks import build, conv_linear_macs
from probe import tools

class CNN_Text(nn.Module):
    """Shawn1993/cnn-text-classification-pytorch model.py (93415f0), as written there."""
    def __init__(self, V, D, C, Co, Ks, static, dropout=0.5):
        super().__init__()
        self.embed = nn.Embedding(V, D, padding_idx=0)
        self.convs = nn.ModuleList([nn.Conv2d(1, Co, (K, D)) for K in Ks])
        self.dropout = nn.Dropout(dropout)
        self.fc1 = nn.Linear(len(Ks) * Co, C)
        if static:
            self.embed.weight.requires_grad = False
    def forward(self, x):
        x = self.embed(x).unsqueeze(1)
        x = [F.relu(conv(x)).squeeze(3) for conv in self.convs]
        x = [F.max_pool1d(i, i.size(2)).squeeze(2) for i in x]
        return self.fc1(self.dropout(torch.cat(x, 1)))

if __name__ == "__main__":
    torch.manual_seed(0)
    name, res = sys.argv[1], int(sys.argv[2])
    t = time.time()
    if name.startswith("textcnn"):
        m = CNN_Text(18766, 300, 2, 100, (3, 4, 5), static=name.endswith(":static"))
        x = torch.randint(0, 18766, (1, res))
    else:
        m = build(name)
        x = torch.randn(1, 3, res, res)
    m.eval()
    out = {"model": name, "res": res, **conv_linear_macs(m, x), **tools(m, x)}
    out["seconds"] = round(time.time() - t, 1)
    print(json.dumps(out), flush=True)
