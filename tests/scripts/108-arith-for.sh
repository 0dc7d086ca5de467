for ((i = 0; i < 5; i++)); do echo -n "$i "; done
echo
for ((i = 10; i > 0; i -= 3)); do echo $i; done
