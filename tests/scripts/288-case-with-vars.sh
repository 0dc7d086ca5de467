pat="b*"
for w in bar baz foo; do
  case $w in
    $pat) echo "$w matches" ;;
    *) echo "$w no" ;;
  esac
done
