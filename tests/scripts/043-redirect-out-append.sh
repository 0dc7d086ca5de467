echo one > f.txt
echo two >> f.txt
cat f.txt
echo three > f.txt
cat f.txt
