trap 'echo x' EXIT
trap -p EXIT
trap - EXIT
trap -p
echo done
