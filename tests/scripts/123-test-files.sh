mkdir -p tdir
echo data > tfile
: > empty
[ -d tdir ] && echo dir
[ -f tfile ] && echo file
[ -e tfile ] && echo exists
[ -s tfile ] && echo nonzero
[ -s empty ] || echo zero
[ -f tdir ] || echo "dir not file"
[ -e nothing ] || echo missing
