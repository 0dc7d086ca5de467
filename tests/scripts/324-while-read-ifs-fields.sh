printf 'a:1\nb:2\n' > kv.txt
while IFS=: read -r k v; do echo "$k -> $v"; done < kv.txt
