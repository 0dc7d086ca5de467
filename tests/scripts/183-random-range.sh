r=$RANDOM
(( r >= 0 && r < 32768 )) && echo ok
[[ $RANDOM != "" ]] && echo nonempty
