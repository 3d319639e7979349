"""BVLC GoogLeNet (Caffe models/bvlc_googlenet/deploy.prototxt + train_val.prototxt aux heads)
written in torch from the prototxt, to run the tools on it: params, conv/linear MACs by hooks,
thop 0.1.1, ptflops 0.7.5, fvcore 0.1.5, ptflops cf48e01, thop 1023a53.
Our own transcription of the prototxt (BVLC/caffe models/bvlc_googlenet), not Caffe's code: conv
+ ReLU, ceil-mode max pools, nn.LocalResponseNorm(5, 1e-4, 0.75), nn.AvgPool2d(7, 1).  torch
2.14.1 (CPU); pinned in tests/archs/test_googlenet.py.  Needs ptflops_cf48e01.py and thop_1023a53/
beside this file for the last three lines (../README.md); the last one is thop 1023a53 with float64
accumulators (torch's default dtype float64), the figure the test pins.
Usage: python tests/data/measure/zoo/bvlc_googlenet.py"""
import sys, warnings
warnings.filterwarnings("ignore")
import torch, torch.nn as nn
from common import params, conv_linear_macs


def conv(i, o, k, s=1, p=0):
    return nn.Sequential(nn.Conv2d(i, o, k, s, p), nn.ReLU(inplace=True))


class Inception(nn.Module):
    def __init__(self, i, c1, c3r, c3, c5r, c5, pp):
        super().__init__()
        self.b1 = conv(i, c1, 1)
        self.b2 = nn.Sequential(conv(i, c3r, 1), conv(c3r, c3, 3, p=1))
        self.b3 = nn.Sequential(conv(i, c5r, 1), conv(c5r, c5, 5, p=2))
        self.b4 = nn.Sequential(nn.MaxPool2d(3, 1, 1, ceil_mode=True), conv(i, pp, 1))

    def forward(self, x):
        return torch.cat([self.b1(x), self.b2(x), self.b3(x), self.b4(x)], 1)


class Aux(nn.Module):
    def __init__(self, i):
        super().__init__()
        self.pool = nn.AvgPool2d(5, 3, ceil_mode=True)
        self.conv = conv(i, 128, 1)
        self.fc = nn.Sequential(nn.Linear(2048, 1024), nn.ReLU(inplace=True), nn.Dropout(0.7), nn.Linear(1024, 1000))

    def forward(self, x):
        return self.fc(torch.flatten(self.conv(self.pool(x)), 1))


class BVLC(nn.Module):
    def __init__(self, aux=False):
        super().__init__()
        self.stem = nn.Sequential(conv(3, 64, 7, 2, 3), nn.MaxPool2d(3, 2, ceil_mode=True),
                                  nn.LocalResponseNorm(5, 1e-4, 0.75), conv(64, 64, 1), conv(64, 192, 3, p=1),
                                  nn.LocalResponseNorm(5, 1e-4, 0.75), nn.MaxPool2d(3, 2, ceil_mode=True))
        self.i3a = Inception(192, 64, 96, 128, 16, 32, 32); self.i3b = Inception(256, 128, 128, 192, 32, 96, 64)
        self.p3 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.i4a = Inception(480, 192, 96, 208, 16, 48, 64); self.i4b = Inception(512, 160, 112, 224, 24, 64, 64)
        self.i4c = Inception(512, 128, 128, 256, 24, 64, 64); self.i4d = Inception(512, 112, 144, 288, 32, 64, 64)
        self.i4e = Inception(528, 256, 160, 320, 32, 128, 128)
        self.p4 = nn.MaxPool2d(3, 2, ceil_mode=True)
        self.i5a = Inception(832, 256, 160, 320, 32, 128, 128); self.i5b = Inception(832, 384, 192, 384, 48, 128, 128)
        self.pool5 = nn.AvgPool2d(7, 1); self.drop = nn.Dropout(0.4); self.fc = nn.Linear(1024, 1000)
        self.aux1 = Aux(512) if aux else None; self.aux2 = Aux(528) if aux else None

    def forward(self, x):
        x = self.p3(self.i3b(self.i3a(self.stem(x))))
        x = self.i4e(self.i4d(self.i4c(self.i4b(self.i4a(x)))))
        x = self.i5b(self.i5a(self.p4(x)))
        return self.fc(torch.flatten(self.drop(self.pool5(x)), 1))


if __name__ == "__main__":
    print("params", params(BVLC()), "with aux", params(BVLC(aux=True)), "macs", conv_linear_macs(BVLC(), 224))
    from thop import profile
    print("thop 0.1.1", int(profile(BVLC().eval(), inputs=(torch.zeros(1, 3, 224, 224),), verbose=False)[0]))
    from ptflops import get_model_complexity_info
    print("ptflops 0.7.5", int(get_model_complexity_info(BVLC().eval(), (3, 224, 224), as_strings=False,
                                                         print_per_layer_stat=False, backend="pytorch")[0]))
    from fvcore.nn import FlopCountAnalysis
    f = FlopCountAnalysis(BVLC().eval(), torch.zeros(1, 3, 224, 224)); f.unsupported_ops_warnings(False)
    print("fvcore", int(f.total()))
    import ptflops_cf48e01 as pt19
    print("ptflops cf48e01", int(pt19.get_model_complexity_info(BVLC(), (224, 224), print_per_layer_stat=False,
                                                                as_strings=False)[0]))
    from thop_1023a53 import profile as thop19
    print("thop 1023a53", thop19(BVLC(), inputs=(torch.zeros(1, 3, 224, 224),), verbose=False)[0])
    torch.set_default_dtype(torch.float64)  # its float32 accumulators widened, as in thop2019_exact.py
    print("thop 1023a53 (float64)", int(thop19(BVLC(), inputs=(torch.zeros(1, 3, 224, 224),), verbose=False)[0]))
