"""Each new layer type through thop 0.1.1.post2209072238, ptflops 0.7.5 (pytorch backend) and
fvcore 0.1.5, on tiny modules; also the 2019 ptflops (cf48e01) code. Prints one JSON line per case.
The cases (CASES below): NASNet's pad-conv-crop and pad-pool-crop, PolyNet's shared conv and
scaled residual, an embedding (trained and frozen), a Kim TextCNN; torch 2.14.1 (CPU), the 2019
ptflops as ptflops_cf48e01.py beside this file (../README.md).  Pinned in
tests/layers/test_{crop,shared,embedding}.py.
Usage: python tests/data/measure/zoo/probe.py [CASE ...]  (default: every case)"""
import json, sys, io, contextlib
import torch, torch.nn as nn, torch.nn.functional as F

class PadConvCrop(nn.Module):            # NASNet: ZeroPad2d((1,0,1,0)), conv, x[:, :, 1:, 1:]
    def __init__(self, contiguous):
        super().__init__(); self.pad = nn.ZeroPad2d((1, 0, 1, 0)); self.conv = nn.Conv2d(8, 8, 3, 2, 1, bias=False)
        self.contiguous = contiguous
    def forward(self, x):
        x = self.conv(self.pad(x)); x = x[:, :, 1:, 1:]
        return x.contiguous() if self.contiguous else x

class PadPoolCrop(nn.Module):
    def __init__(self, kind):
        super().__init__(); self.pad = nn.ZeroPad2d((1, 0, 1, 0))
        self.pool = nn.MaxPool2d(3, 2, 1) if kind == "max" else nn.AvgPool2d(3, 2, 1, count_include_pad=False)
    def forward(self, x):
        return self.pool(self.pad(x))[:, :, 1:, 1:]

class Shared(nn.Module):                 # PolyNet's PolyConv2d: one conv, a BN per use
    def __init__(self):
        super().__init__(); self.conv = nn.Conv2d(8, 8, 3, padding=1, bias=False)
        self.bns = nn.ModuleList([nn.BatchNorm2d(8) for _ in range(3)]); self.relu = nn.ReLU()
    def forward(self, x):
        for bn in self.bns:
            x = self.relu(bn(self.conv(x)))
        return x

class ScaleAdd(nn.Module):               # PolyNet: out = out + x * scale
    def __init__(self):
        super().__init__(); self.conv = nn.Conv2d(8, 8, 1, bias=False)
    def forward(self, x):
        return x + self.conv(x) * 0.5

class Emb(nn.Module):
    def __init__(self, frozen):
        super().__init__()
        self.emb = nn.Embedding(100, 16)
        self.emb.weight.requires_grad = not frozen
        self.fc = nn.Linear(16 * 20, 4)
    def forward(self, ids):
        return self.fc(self.emb(ids).flatten(1))

class TextCNN(nn.Module):                # Shawn1993-style Kim CNN: Conv2d (k, D), F.relu, F.max_pool1d, cat
    def __init__(self, V=100, D=16, Co=5, Ks=(3, 4, 5), C=2, conv1d=False):
        super().__init__(); self.conv1d = conv1d
        self.embed = nn.Embedding(V, D)
        self.convs = nn.ModuleList([nn.Conv1d(D, Co, K) if conv1d else nn.Conv2d(1, Co, (K, D)) for K in Ks])
        self.dropout = nn.Dropout(0.5); self.fc = nn.Linear(len(Ks) * Co, C)
    def forward(self, ids):
        x = self.embed(ids)
        if self.conv1d:
            x = x.transpose(1, 2)
            x = [F.relu(c(x)) for c in self.convs]
        else:
            x = x.unsqueeze(1)
            x = [F.relu(c(x)).squeeze(3) for c in self.convs]
        x = [F.max_pool1d(i, i.size(2)).squeeze(2) for i in x]
        return self.fc(self.dropout(torch.cat(x, 1)))

def tools(model, x):
    import thop, ptflops, ptflops_cf48e01 as pf2019
    from fvcore.nn import FlopCountAnalysis, parameter_count
    model.eval()
    out = {}
    with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
        ops, params = thop.profile(model, inputs=(x,), verbose=False)
        out["thop"], out["thop_params"] = int(ops), int(params)
        mac, p = ptflops.get_model_complexity_info(model, tuple(x.shape[1:]), as_strings=False,
                                                   print_per_layer_stat=False,
                                                   input_constructor=lambda _: x)
        out["ptflops"], out["ptflops_params"] = int(mac), int(p)
        try:
            f = FlopCountAnalysis(model, x); f.unsupported_ops_warnings(False); f.uncalled_modules_warnings(False)
            out["fvcore"] = int(f.total()); out["fvcore_unsupported"] = dict(f.unsupported_ops())
        except Exception as e:
            out["fvcore"] = repr(e)[:80]
        out["fvcore_params"] = int(parameter_count(model)[""])
        mod = pf2019.add_flops_counting_methods(model); mod.eval().start_flops_count()
        with torch.no_grad(): mod(x)
        out["ptflops_2019"] = int(mod.compute_average_flops_cost()); mod.stop_flops_count()
        out["ptflops_2019_params"] = pf2019.get_model_parameters_number(mod)
    return out

CASES = {
    "pad_conv_crop_view": (lambda: PadConvCrop(False), lambda: torch.randn(1, 8, 10, 10)),
    "pad_conv_crop_copy": (lambda: PadConvCrop(True), lambda: torch.randn(1, 8, 10, 10)),
    "pad_maxpool_crop": (lambda: PadPoolCrop("max"), lambda: torch.randn(1, 8, 10, 10)),
    "pad_avgpool_crop": (lambda: PadPoolCrop("avg"), lambda: torch.randn(1, 8, 10, 10)),
    "shared_conv_x3": (Shared, lambda: torch.randn(1, 8, 6, 6)),
    "scale_add": (ScaleAdd, lambda: torch.randn(1, 8, 6, 6)),
    "embedding": (lambda: Emb(False), lambda: torch.randint(0, 100, (1, 20))),
    "embedding_frozen": (lambda: Emb(True), lambda: torch.randint(0, 100, (1, 20))),
    "textcnn_conv2d": (TextCNN, lambda: torch.randint(0, 100, (1, 20))),
    "textcnn_conv1d": (lambda: TextCNN(conv1d=True), lambda: torch.randint(0, 100, (1, 20))),
}

if __name__ == "__main__":
    torch.manual_seed(0)
    for name in sys.argv[1:] or CASES:
        build, inp = CASES[name]
        print(json.dumps({"case": name, **tools(build(), inp())}))
