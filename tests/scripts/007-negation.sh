! false
echo $?
! true
echo $?
