#!/bin/sh
# every Cadene / timm case tests/archs/test_{inception,xception,dpn,resnet}.py pins, as
# measure_cadene.py lines in the working directory: cadene_counts.jsonl (all four tools),
# timm_counts.jsonl (timm's ports, hooks only), dpn_counts.jsonl and more_counts.jsonl (one tool
# per process: DPN's ReLU modules are default arguments, shared by every instance, and a tool
# that leaves attributes on them breaks the next).
# usage: [PYTHON=/path/to/python] sh tests/data/measure/zoo/run_cadene.sh
P=${PYTHON:-python}
M="$(dirname "$0")/measure_cadene.py"
$P "$M" inceptionv4 inceptionresnetv2 bninception xception fbresnet152 > cadene_counts.jsonl
$P "$M" timm:inception_v4 timm:inception_resnet_v2 timm:legacy_xception \
  timm:dpn68 timm:dpn68b timm:dpn92 timm:dpn98 timm:dpn107 timm:dpn131 > timm_counts.jsonl
for m in dpn68 dpn68b dpn92 dpn98 dpn107 dpn131; do
  for t in ptflops_2019 ptflops thop fvcore; do
    $P "$M" --tools=$t $m@224
  done
done > dpn_counts.jsonl
$P "$M" timm:inception_v4@224 timm:inception_resnet_v2@224 timm:legacy_xception@224 timm:dpn68@320 > more_counts.jsonl
for t in ptflops_2019 ptflops thop fvcore; do
  $P "$M" --tools=$t xception@224 dpn68@320 >> more_counts.jsonl
done
