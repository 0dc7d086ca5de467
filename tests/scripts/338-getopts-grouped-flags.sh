while getopts "xyz:" o; do echo "$o ${OPTARG:-}"; done <<< "" 
set -- -xy -z val rest
OPTIND=1
while getopts "xyz:" o; do echo "opt $o ${OPTARG:-}"; done
shift $((OPTIND - 1))
echo "left: $*"
