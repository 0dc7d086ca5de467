abc1=1 abc2=2
echo ${!abc*}
