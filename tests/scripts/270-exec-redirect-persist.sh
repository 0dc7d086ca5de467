exec 4>out4.txt
echo one >&4
echo two >&4
exec 4>&-
cat out4.txt
