false
echo $?
true
echo $?
exit 3
