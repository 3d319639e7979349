#!/bin/sh
# every reference figure tests/test_training.py pins; output: results.jsonl in the working directory
# usage: [PYTHON=/path/to/python] sh tests/data/measure/training/run_all.sh
P=${PYTHON:-python}
M="$(dirname "$0")/measure.py"
: > results.jsonl
for m in resnet18 resnet50 mobilenet_v2 vgg16; do
  for b in 1 2; do
    $P "$M" $m $b >> results.jsonl
    $P "$M" $m $b --fake-cuda >> results.jsonl
  done
done
$P "$M" resnet18 2 --freeze conv1,bn1,layer1 >> results.jsonl
$P "$M" resnet18 2 --freeze layer3 >> results.jsonl
$P "$M" mobilenet_v2 2 --freeze features >> results.jsonl
$P "$M" resnet50 1 --half >> results.jsonl
