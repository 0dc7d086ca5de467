s=hello
echo ${#s}
set -- a b c d
echo $#
