# guests run sh/bash scripts through the interpreter: find -exec sh SCRIPT, bash -c
mkdir -p d; printf 'echo "ran $0 $#"\n' > d/a.sh; printf 'echo "ran $0 $1"\n' > d/b.sh
find d -name '*.sh' -exec sh {} x \; | sort
find d -name 'a.sh' -exec bash -c 'echo "c: $1"' _ {} \;
