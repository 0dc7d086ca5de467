printf 'one\ntwo\nthree\n' > lines.txt
n=0
while read -r l; do n=$((n+1)); echo "$n:$l"; done < lines.txt
