#!/bin/sh
# more torchvision families (channel split, grouped convs, concat, dropout); output: more.jsonl
# in the working directory
# usage: [PYTHON=/path/to/python] sh tests/data/measure/training/run_more.sh
P=${PYTHON:-python}
M="$(dirname "$0")/measure.py"
: > more.jsonl
for m in shufflenet_v2_x1_0 resnext50_32x4d squeezenet1_0 alexnet; do
  $P "$M" $m 2 >> more.jsonl
  $P "$M" $m 2 --fake-cuda >> more.jsonl
done
