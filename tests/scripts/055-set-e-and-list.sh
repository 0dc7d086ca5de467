set -e
false && echo no
echo "still here"
