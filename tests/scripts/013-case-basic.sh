for v in apple banana cherry 42 x.txt; do
  case $v in
    a*) echo "$v starts with a" ;;
    b*|c*) echo "$v b or c" ;;
    [0-9]*) echo "$v number" ;;
    *.txt) echo "$v text" ;;
  esac
done
