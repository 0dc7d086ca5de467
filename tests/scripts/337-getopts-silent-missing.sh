f() {
  local OPTIND o
  while getopts ":a:" o; do
    case $o in
      a) echo "a=$OPTARG" ;;
      :) echo "missing arg for $OPTARG" ;;
      \?) echo "bad opt $OPTARG" ;;
    esac
  done
}
f -a
f -z
f -a val
