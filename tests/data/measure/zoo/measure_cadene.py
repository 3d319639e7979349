"""Reference counts of Cadene's pretrainedmodels 0.7.4 (and timm 1.0.31 ports) on the CPU.

usage: python tests/data/measure/zoo/measure_cadene.py [--tools=T1,T2] NAME[@RES] [NAME...]
  -> one JSON line per model.  NAME: inceptionv4, inceptionresnetv2, bninception, xception,
  fbresnet152, dpn68 ... dpn131 (cadene.py beside this file), or timm:NAME (timm 1.0.31, hooks only);
  RES defaults to the model's pretrained_settings size.  torch 2.14.1 (CPU), pretrainedmodels 0.7.4;
  pinned in tests/archs/test_{inception,xception,dpn,resnet}.py; run_cadene.sh runs every case.
  params            sum(p.numel())
  conv_linear_macs  forward hooks on every nn.Conv2d / nn.Linear call: out elems x in/groups x kh x kw, in x out
  leaf_outputs      output elements of every leaf-module call
  ptflops_2019      ptflops cf48e01 (2019-04-29) flops_counter.py, run as is: get_model_complexity_info(m, (H, W), as_strings=False)
                    (ptflops_cf48e01.py beside this file: ../README.md)
  ptflops           ptflops 0.7.5 get_model_complexity_info(m, (3, H, W), backend='pytorch')
  thop              thop 0.1.1 profile(m, (x,))
  fvcore            fvcore 0.1.5 FlopCountAnalysis(m, x).total()
"""
import io, json, sys, contextlib, warnings
import torch
warnings.filterwarnings("ignore")
import cadene

TIMM = {"inceptionv4": "inception_v4", "inceptionresnetv2": "inception_resnet_v2", "xception": "legacy_xception",
        **{n: n for n in ["dpn68", "dpn68b", "dpn92", "dpn98", "dpn107", "dpn131"]}}


def build(name):
    if name.startswith("timm:"):
        import timm
        return timm.create_model(name[5:], pretrained=False, num_classes=1000)
    return cadene.model(name)


def hook_counts(m, x):
    tot = {"macs": 0, "leaf": 0}
    def h(mod, inp, out):
        if isinstance(mod, torch.nn.Conv2d):
            kh, kw = mod.kernel_size
            tot["macs"] += out.numel() // out.shape[0] * mod.in_channels // mod.groups * kh * kw
        elif isinstance(mod, torch.nn.Linear):
            tot["macs"] += mod.in_features * mod.out_features
        if len(list(mod.children())) == 0 and isinstance(out, torch.Tensor):
            tot["leaf"] += out.numel() // out.shape[0]
    hs = [mod.register_forward_hook(h) for mod in m.modules()]
    with torch.no_grad():
        m(x)
    for hd in hs:
        hd.remove()
    return tot


def measure(name, res, tools):
    r = {"model": name, "res": res}
    m = build(name).eval()
    x = torch.randn(1, 3, res, res)
    r["params"] = sum(p.numel() for p in m.parameters())
    t = hook_counts(m, x)
    r["conv_linear_macs"], r["leaf_outputs"] = t["macs"], t["leaf"]
    quiet = contextlib.redirect_stdout(io.StringIO())
    if "ptflops_2019" in tools:
        import ptflops_cf48e01 as p19
        with quiet, torch.no_grad():
            f, p = p19.get_model_complexity_info(build(name), (res, res), as_strings=False, print_per_layer_stat=False)
        r["ptflops_2019"], r["ptflops_2019_params"] = int(f), int(p)
    if "ptflops" in tools:
        from ptflops import get_model_complexity_info
        try:
            with quiet, torch.no_grad():
                f, p = get_model_complexity_info(build(name).eval(), (3, res, res), as_strings=False,
                                                 print_per_layer_stat=False, backend="pytorch")
            r["ptflops"] = int(f)
        except Exception as e:  # ptflops 0.7.5 fails on a module shared by several parents (DPN's ReLU)
            r["ptflops"] = f"{type(e).__name__}: {e}"
    if "thop" in tools:
        from thop import profile
        try:
            with quiet, torch.no_grad():
                f, p = profile(build(name).eval(), inputs=(x,), verbose=False)
            r["thop"] = int(f)
        except Exception as e:  # thop 0.1.1 fails on a module shared by several parents (DPN's ReLU)
            r["thop"] = f"{type(e).__name__}: {e}"
    if "fvcore" in tools:
        from fvcore.nn import FlopCountAnalysis
        fa = FlopCountAnalysis(build(name).eval(), x)
        fa.unsupported_ops_warnings(False); fa.uncalled_modules_warnings(False)
        r["fvcore"] = int(fa.total())
    return r


if __name__ == "__main__":
    args = sys.argv[1:]
    tools = {"ptflops_2019", "ptflops", "thop", "fvcore"}
    if args and args[0].startswith("--tools="):  # one tool per process: DPN's ReLU modules are
        tools = set(args.pop(0)[8:].split(","))  # default arguments, shared by every instance
    for a in args:
        name, _, res = a.partition("@")
        base = name[5:] if name.startswith("timm:") else name
        if not res:
            if name.startswith("timm:"):
                import timm
                res = timm.create_model(base, pretrained=False).pretrained_cfg["input_size"][1]
            else:
                res = list(cadene.settings(name).values())[0]["input_size"][1]
        print(json.dumps(measure(name, int(res), tools if not name.startswith("timm:") else set())), flush=True)
