p=/usr/local/lib/file.tar.gz
echo "${p#*/}"
echo "${p##*/}"
echo "${p%.*}"
echo "${p%%.*}"
