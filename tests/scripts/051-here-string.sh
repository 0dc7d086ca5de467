tr a-z A-Z <<< "shout this"
x=abc
cat <<< "$x$x"
