printf 'x\ny\n' > in.txt
wc -l < in.txt
