"""Reference counts for issue 20 (MobileNet v3, EfficientNet, GhostNet, RegNet).

usage: python tests/data/measure/torchvision_timm/measure.py [--tools] NAME[~k=v,...][@RES] ...
  NAME: a torchvision.models builder (weights=None), or timm:NAME for a timm model
  (pretrained=False); ~k=v,... are builder keyword arguments (e.g. ~width_mult=0.75); RES
  defaults to 224.  Eval mode, batch 1, 1000 classes.
Prints one JSON line per model: params, conv_macs, linear_macs (forward hooks on every
nn.Conv2d / nn.Linear, subclasses included), leaf_output_elems (sum of output numel of
every leaf module), and with --tools the totals of thop, ptflops and fvcore.
Measured with torch 2.14.1 (CPU), torchvision 0.29.1, timm 1.0.31, thop 0.1.1.post2209072238,
ptflops 0.7.5 (pytorch backend) and fvcore 0.1.5: the figures of tests/archs/test_{mobilenet_v3,
efficientnet,ghostnet,regnet}.py (method in tests/archs/reference.py)."""
import copy, json, sys, warnings
import torch, torch.nn as nn

warnings.filterwarnings("ignore")
torch.set_grad_enabled(False)


def build(spec):
    name, _, kw = spec.partition("~")
    kwargs = {}
    for item in filter(None, kw.split(",")):
        k, v = item.split("=")
        kwargs[k] = float(v) if "." in v else int(v)
    if name.startswith("timm:"):
        import timm
        return timm.create_model(name[5:], pretrained=False, **kwargs).eval()
    import torchvision.models as tvm
    return getattr(tvm, name)(weights=None, **kwargs).eval()


def hooks(model, x):
    acc = {"conv_macs": 0, "linear_macs": 0, "leaf_output_elems": 0}
    hs = []

    def conv(m, i, o):
        acc["conv_macs"] += o.numel() * (m.in_channels // m.groups) * m.kernel_size[0] * m.kernel_size[1]

    def lin(m, i, o):
        acc["linear_macs"] += i[0].numel() * m.out_features

    def leaf(m, i, o):
        acc["leaf_output_elems"] += o.numel()

    for m in model.modules():
        if isinstance(m, nn.Conv2d):
            hs.append(m.register_forward_hook(conv))
        elif isinstance(m, nn.Linear):
            hs.append(m.register_forward_hook(lin))
        if not list(m.children()):
            hs.append(m.register_forward_hook(leaf))
    model(x)
    for h in hs:
        h.remove()
    acc["conv_linear_macs"] = acc["conv_macs"] + acc["linear_macs"]
    return acc


def tools(model, x, res):
    from thop import profile
    from ptflops import get_model_complexity_info
    from fvcore.nn import FlopCountAnalysis
    out = {}
    out["thop_macs"], _ = profile(copy.deepcopy(model), inputs=(x,), verbose=False)
    out["ptflops_macs"], _ = get_model_complexity_info(copy.deepcopy(model), (3, res, res), as_strings=False,
                                                      print_per_layer_stat=False, verbose=False, backend="pytorch")
    fa = FlopCountAnalysis(copy.deepcopy(model), x)
    fa.unsupported_ops_warnings(False); fa.uncalled_modules_warnings(False)
    out["fvcore_total"] = fa.total()
    out["fvcore_by_op"] = dict(fa.by_operator())
    out["fvcore_unsupported"] = dict(fa.unsupported_ops())
    return out


def main(argv):
    with_tools = "--tools" in argv
    for spec in [a for a in argv if a != "--tools"]:
        spec, _, res = spec.partition("@")
        res = int(res or 224)
        model = build(spec)
        x = torch.randn(1, 3, res, res)
        rec = {"model": spec, "res": res, "params": sum(p.numel() for p in model.parameters())}
        rec.update(hooks(model, x))
        if with_tools:
            rec.update(tools(model, x, res))
        print(json.dumps(rec), flush=True)


if __name__ == "__main__":
    main(sys.argv[1:])
