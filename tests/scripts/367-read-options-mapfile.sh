# read: combined and attached options (-rn1, -d '', -N), -u; mapfile/readarray
printf 'abcdef\n' | { read -n 3 x; echo "n3 [$x]"; }
printf 'ab\ncd\n' | { read -rN 4 x; echo "N4 [$x]"; }
printf 'a,b,c' | { read -d, x; echo "d, [$x]"; }
printf 'one\0two\0' | { read -r -d '' x; echo "nul [$x]"; }
printf 'xy' | { read -rn1 a; read -rn1 b; echo "$a-$b"; }
echo "via fd 3" > in3.txt
exec 3< in3.txt; read -u 3 line; echo "[$line]"; exec 3<&-
read -q 2>/dev/null; echo "bad option $?"
printf 'l1\nl2\nl3\n' > lines.txt
mapfile -t arr < lines.txt; echo "${#arr[@]} [${arr[0]}] [${arr[2]}]"
mapfile arr2 < lines.txt; printf '<%s>' "${arr2[@]}"; echo
readarray -s 1 -n 1 -t part < lines.txt; declare -p part
mapfile -O 5 -t off < lines.txt; echo "${!off[@]}"
printf 'a:b:c' | { mapfile -d : -t parts; echo "${parts[*]} ${#parts[@]}"; }
mapfile < lines.txt; echo "${MAPFILE[1]}"
rm -f in3.txt lines.txt
