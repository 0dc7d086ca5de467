f() { echo "to file"; } > fout.txt
f
cat fout.txt
