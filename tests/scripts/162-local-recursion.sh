fact() {
  local n=$1
  if (( n <= 1 )); then echo 1; return; fi
  local sub=$(fact $((n - 1)))
  echo $(( n * sub ))
}
fact 10
