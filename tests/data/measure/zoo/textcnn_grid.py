"""Which TextCNN configurations print seed 000's 0.15 M / 0.009 G.  Closed forms (checked
against calc on the hits): conv params F*D*sum(k) + n*F, FC n*F*C + C; thop: no Embedding
params, MACs F*D*sum(k*(L-k+1)) + n*F*C; ptflops (frozen table): + conv bias, F.relu and
F.max_pool1d per conv output, FC bias.  Plain Python (no framework): the scan cited in
tests/archs/test_textcnn.py.
Usage: python tests/data/measure/zoo/textcnn_grid.py"""
hits = {}
for C in (2, 5):
    for D in (50, 64, 100, 128, 200, 256, 300):
        for F in (32, 50, 64, 100, 128, 150, 200, 256):
            for Ks in ((3, 4, 5), (2, 3, 4), (1, 2, 3), (3,), (5,), (2, 3, 4, 5)):
                n = len(Ks)
                params = F * D * sum(Ks) + n * F + n * F * C + C
                if f"{params / 1e6:.2f}" != "0.15":
                    continue
                for L in range(max(Ks), 2001):
                    out = F * sum(L - k + 1 for k in Ks)
                    macs = F * D * sum(k * (L - k + 1) for k in Ks) + n * F * C
                    for tool, v in (("thop", macs), ("ptflops", macs + 3 * out + C)):
                        if f"{v / 1e9:.3f}" == "0.009":
                            hits.setdefault((tool, C, D, F, Ks, params), []).append(L)
for k, v in sorted(hits.items()):
    print(k, f"L={v[0]}..{v[-1]}")
