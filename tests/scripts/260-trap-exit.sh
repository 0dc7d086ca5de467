trap 'echo "exit trap, status $?"' EXIT
echo running
exit 3
