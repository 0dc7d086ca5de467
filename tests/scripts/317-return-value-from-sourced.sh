echo 'return 4' > r.sh
. ./r.sh
echo $?
