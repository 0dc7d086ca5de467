s="hello world"
echo ${#s} ${s:6} ${s^^}
