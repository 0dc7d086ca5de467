true &
pid=$!
wait $pid
echo "waited $?"
[ -n "$pid" ] && echo has-pid
