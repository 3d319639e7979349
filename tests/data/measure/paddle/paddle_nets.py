"""Params and conv/FC MACs of PaddleClas' static-graph MobileNetV2 and ShuffleNetV2.

Torch transcriptions, layer for layer, of PaddlePaddle/PaddleClas
ppcls/modeling/architectures/{mobilenet_v2,shufflenet_v2}.py at 9f39da885 (2020-04-09), counted
with forward hooks: params ``sum(p.numel())``, MACs output elements x in/groups x kh x kw for
every nn.Conv2d and output elements x in_features for every nn.Linear, one 1x3x224x224 input,
1000 classes.  Measured with torch 2.14.1 (CPU).  Pinned in tests/archs/test_mobilenet.py
(mobilenet_v2_paddle) and tests/archs/test_shufflenet.py (--variant paddle).
Usage: python tests/data/measure/paddle/paddle_nets.py  (one line per model: name, scale,
params, MACs)."""
import torch, torch.nn as nn

def cbr(cin, cout, k, s, p, g=1, act=None):
    layers = [nn.Conv2d(cin, cout, k, s, p, groups=g, bias=False), nn.BatchNorm2d(cout)]
    if act: layers.append(act())
    return nn.Sequential(*layers)

class IRU(nn.Module):  # inverted_residual_unit: expand (always), dwise, linear
    def __init__(self, cin, cout, s, t, shortcut):
        super().__init__()
        e = int(round(cin * t))
        self.body = nn.Sequential(cbr(cin, e, 1, 1, 0, act=nn.ReLU6), cbr(e, e, 3, s, 1, g=e, act=nn.ReLU6),
                                  cbr(e, cout, 1, 1, 0))
        self.shortcut = shortcut
    def forward(self, x):
        y = self.body(x)
        return x + y if self.shortcut else y

class MV2(nn.Module):
    def __init__(self, scale, classes=1000):
        super().__init__()
        rows = [(1, 16, 1, 1), (6, 24, 2, 2), (6, 32, 3, 2), (6, 64, 4, 2), (6, 96, 3, 1), (6, 160, 3, 2), (6, 320, 1, 1)]
        mods = [cbr(3, int(32 * scale), 3, 2, 1, act=nn.ReLU6)]
        in_c = int(32 * scale)
        for t, c, n, s in rows:
            c = int(c * scale)
            mods.append(IRU(in_c, c, s, t, False))
            for _ in range(1, n):
                mods.append(IRU(c, c, 1, t, True))
            in_c = c
        out_c = int(1280 * scale) if scale > 1.0 else 1280
        mods.append(cbr(in_c, out_c, 1, 1, 0, act=nn.ReLU6))
        self.features = nn.Sequential(*mods)
        self.fc = nn.Linear(out_c, classes)
    def forward(self, x):
        return self.fc(self.features(x).mean((2, 3)))

SHUFFLE = {0.25: [24, 24, 48, 96, 512], 0.33: [24, 32, 64, 128, 512], 0.5: [24, 48, 96, 192, 1024],
           1.0: [24, 116, 232, 464, 1024], 1.5: [24, 176, 352, 704, 1024], 2.0: [24, 224, 488, 976, 2048]}

def shuffle(x, g):
    b, c, h, w = x.shape
    return x.reshape(b, g, c // g, h, w).transpose(1, 2).reshape(b, c, h, w)

class SU(nn.Module):
    def __init__(self, inp, out, stride):
        super().__init__()
        o = out // 2
        self.stride = stride
        if stride == 1:
            self.b2 = nn.Sequential(cbr(inp // 2, o, 1, 1, 0, act=nn.ReLU), cbr(o, o, 3, 1, 1, g=o), cbr(o, o, 1, 1, 0, act=nn.ReLU))
        else:
            self.b1 = nn.Sequential(cbr(inp, inp, 3, stride, 1, g=inp), cbr(inp, o, 1, 1, 0, act=nn.ReLU))
            self.b2 = nn.Sequential(cbr(inp, o, 1, 1, 0, act=nn.ReLU), cbr(o, o, 3, stride, 1, g=o), cbr(o, o, 1, 1, 0, act=nn.ReLU))
    def forward(self, x):
        if self.stride == 1:
            x1, x2 = x.chunk(2, 1)
            out = torch.cat([x1, self.b2(x2)], 1)
        else:
            out = torch.cat([self.b1(x), self.b2(x)], 1)
        return shuffle(out, 2)

class SV2(nn.Module):
    def __init__(self, scale, classes=1000):
        super().__init__()
        ch = SHUFFLE[scale]
        mods = [cbr(3, ch[0], 3, 2, 1, act=nn.ReLU), nn.MaxPool2d(3, 2, 1)]
        inp = ch[0]
        for reps, out in zip([4, 8, 4], ch[1:4]):
            for i in range(reps):
                mods.append(SU(inp, out, 2 if i == 0 else 1))
                inp = out
        mods.append(cbr(inp, ch[4], 1, 1, 0, act=nn.ReLU))
        mods.append(nn.AvgPool2d(7, 1, 0))
        self.features = nn.Sequential(*mods)
        self.fc = nn.Linear(ch[4], classes)
    def forward(self, x):
        return self.fc(self.features(x).flatten(1))

def count(model):
    macs = [0]
    def hook(m, i, o):
        if isinstance(m, nn.Conv2d):
            macs[0] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]
        elif isinstance(m, nn.Linear):
            macs[0] += o.numel() * m.in_features
    for m in model.modules():
        if isinstance(m, (nn.Conv2d, nn.Linear)):
            m.register_forward_hook(hook)
    model.eval()
    with torch.no_grad():
        model(torch.zeros(1, 3, 224, 224))
    return sum(p.numel() for p in model.parameters()), macs[0]

if __name__ == "__main__":
    for s in (0.25, 0.5, 0.75, 1.0, 1.5, 2.0):
        print("MobileNetV2", s, *count(MV2(s)))
    for s in SHUFFLE:
        print("ShuffleNetV2", s, *count(SV2(s)))
