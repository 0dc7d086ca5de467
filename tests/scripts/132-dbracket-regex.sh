s="version 12.34"
if [[ $s =~ ([0-9]+)\.([0-9]+) ]]; then
  echo "match ${BASH_REMATCH[0]} major ${BASH_REMATCH[1]} minor ${BASH_REMATCH[2]}"
fi
[[ abc =~ ^b ]] || echo "anchored no"
re='^[a-z]+$'
[[ abc =~ $re ]] && echo "var regex"
