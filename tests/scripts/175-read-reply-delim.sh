read <<< "  padded  "
echo "[$REPLY]"
read -d , f <<< "first,second"
echo "$f"
