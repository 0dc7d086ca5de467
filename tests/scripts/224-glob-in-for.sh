mkdir g && cd g
touch 3 1 2
for f in *; do echo "file $f"; done
