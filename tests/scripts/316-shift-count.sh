set -- a b c d e
shift 2
echo "$@"
shift 10 || echo "shift failed $?"
echo $#
