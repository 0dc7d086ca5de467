trap 'echo cleanup' EXIT
echo body
