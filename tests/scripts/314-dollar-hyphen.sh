set -e
case $- in *e*) echo "errexit on" ;; esac
set +e
case $- in *e*) echo "still on" ;; *) echo "errexit off" ;; esac
