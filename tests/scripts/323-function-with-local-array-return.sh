split_words() { local IFS=,; local -a parts=($1); echo "${#parts[@]}:${parts[*]}"; }
split_words "a,b,c"
echo "IFS intact: [$IFS]" | tr ' \t\n' 'STN'
echo
