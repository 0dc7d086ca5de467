# kill stops a guest that is running: a sleeping one and a spinning one
sleep 30 &
sleep 1; kill $!; wait $!; echo "running guest: $?"
yes > /dev/null &
sleep 1; kill $!; wait $!; echo "spinning guest: $?"
