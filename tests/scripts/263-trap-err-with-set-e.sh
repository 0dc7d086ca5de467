set -e
trap 'echo "failing: $?"' ERR
echo one
false
echo never
