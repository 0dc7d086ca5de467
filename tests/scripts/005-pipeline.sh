echo "b a c" | tr ' ' '\n' | sort
