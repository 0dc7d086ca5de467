s=""
for i in {1..5}; do s+="$i,"; done
echo "${s%,}"
